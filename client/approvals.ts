// Casting a vote the approval service signed: find the run and step that wait (children included), sign the vote for the person serve authenticated, signal it, and read back how the worker recorded it.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { voteStatement, type SignedVote, type Vote, type VoteRecord } from '../contract/approvals.ts';
import { canonicalJson } from '../contract/canonical.ts';
import { approveSignal, rejectSignal, statusQuery, type RunStatus } from '../contract/run.ts';
import { withChildren } from './runs.ts';
import { keyFingerprint } from './signing.ts';

export const APPROVAL_KEY_ENV = 'REBOUND_APPROVAL_KEY';

/** Why a vote could not be cast, with the HTTP status serve answers. */
export class VoteError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = 'VoteError';
  }
}

/** The approval service's private key (REBOUND_APPROVAL_KEY, a 0600 file); its public half goes in the workers' REBOUND_APPROVAL_KEYS. */
export function approvalKey(env: NodeJS.ProcessEnv = process.env): KeyObject {
  const path = env[APPROVAL_KEY_ENV];
  if (!path)
    throw new Error(`no approval signing key: set ${APPROVAL_KEY_ENV} to the private key file whose public half workers list in REBOUND_APPROVAL_KEYS`);
  if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${APPROVAL_KEY_ENV}: ${path} is readable by others; chmod 600 it`);
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${APPROVAL_KEY_ENV}: ${path} is not an Ed25519 private key`);
  return key;
}

export function signVote(vote: Vote, key: KeyObject): SignedVote {
  return { vote, key: keyFingerprint(key), sig: sign(null, Buffer.from(voteStatement(vote, canonicalJson)), key).toString('base64') };
}

async function statusOf(client: Client, run: string): Promise<RunStatus> {
  try {
    return await client.workflow.getHandle(run).query(statusQuery);
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') throw new VoteError(`no run ${run}`, 404);
    throw error;
  }
}

/** The run that holds `step`: the run itself, or for `<child step>.<step>` (as `status` shows it) the child run that step started. */
export async function holderOf(client: Client, run: string, step: string): Promise<{ run: string; step: string; status: RunStatus }> {
  const status = await statusOf(client, run);
  const child = status.steps.some((s) => s.id === step) ? undefined : status.steps.find((s) => s.uses === 'runbook' && step.startsWith(`${s.id}.`));
  return child ? holderOf(client, `${run}.${child.id}`, step.slice(child.id.length + 1)) : { run, step, status };
}

export interface Voter {
  name: string;
  groups: string[];
  channel: Vote['channel'];
}

/** Finds the waiting approval, signs the voter's decision and sends it; the worker then checks it against the step's policy. */
export async function castVote(
  client: Client,
  request: { run: string; step: string; decision: Vote['decision']; reason: string },
  voter: Voter,
  key: KeyObject,
) {
  const holder = await holderOf(client, request.run, request.step);
  const state = holder.status.steps.find((s) => s.id === holder.step);
  if (!state) {
    const all = await withChildren(client, request.run, await statusOf(client, request.run));
    throw new VoteError(`run ${request.run} has no step "${request.step}"; its steps are ${all.steps.map((s) => s.id).join(', ')}`, 404);
  }
  if (state.uses !== 'approval') throw new VoteError(`step "${request.step}" is a ${state.uses} step, not an approval`, 400);
  if (state.status !== 'running') throw new VoteError(`step "${request.step}" is not waiting for a decision (it is ${state.status})`, 409);
  const handle = client.workflow.getHandle(holder.run);
  const execution = (await handle.describe()).runId;
  const vote: Vote = {
    workflow_id: holder.run,
    execution,
    step: holder.step,
    decision: request.decision,
    voter: voter.name,
    groups: voter.groups,
    channel: voter.channel,
    at: new Date().toISOString(),
    reason: request.reason,
  };
  const signed = signVote(vote, key);
  await handle.signal(request.decision === 'approve' ? approveSignal : rejectSignal, { step: holder.step, by: voter.name, reason: request.reason, signed });
  return { run: holder.run, step: holder.step, vote };
}

/** How the run recorded the vote, once the worker has checked it (undefined if not yet). */
export async function recordedVote(client: Client, run: string, step: string, vote: Vote): Promise<VoteRecord | undefined> {
  const status = await client.workflow.getHandle(run).query(statusQuery);
  return status.steps.find((s) => s.id === step)?.votes?.find((v) => v.at === vote.at && v.by === vote.voter);
}
