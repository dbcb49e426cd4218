// Checking an approval ballot on the worker: the approval service's signature (REBOUND_APPROVAL_KEYS), that the vote is for this run and step, the step's approvers, and the self-approval rule.
import { verify } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { starterCovers, starterStatement, voteStatement, type StarterStatement, type Vote, type VoteCheck, type VoteRecord } from '../../contract/approvals.ts';
import { canonicalJson } from '../../contract/canonical.ts';
import { publicKeys, trustedKeys } from './trust.ts';

export const APPROVAL_KEYS_ENV = 'REBOUND_APPROVAL_KEYS';

const text = (value: unknown, max = 200): string => (typeof value === 'string' ? value.slice(0, max) : '');

/** A vote with every field of the expected type; anything else is refused as malformed. */
function wellFormed(vote: unknown): vote is Vote {
  if (!vote || typeof vote !== 'object') return false;
  const v = vote as Record<string, unknown>;
  const strings = ['workflow_id', 'execution', 'step', 'voter', 'at', 'reason'].every((k) => typeof v[k] === 'string');
  return strings && (v.decision === 'approve' || v.decision === 'reject') && (v.channel === 'token' || v.channel === 'mtls') && Array.isArray(v.groups);
}

/** Why a signed vote is not trustworthy, or undefined when the approval service's key signed exactly it. */
function signatureProblem(signed: { vote: Vote; key?: unknown; sig?: unknown }): string | undefined {
  let keys;
  try {
    keys = publicKeys(APPROVAL_KEYS_ENV, 'approval service');
  } catch (error) {
    return `this worker trusts no approval service (${(error as Error).message})`;
  }
  const key = typeof signed.key === 'string' ? keys.get(signed.key) : undefined;
  if (!key) return `signed by key ${text(signed.key, 32) || '(none)'}, which this worker does not trust as an approval service`;
  const ok = typeof signed.sig === 'string' && verify(null, Buffer.from(voteStatement(signed.vote, canonicalJson)), key, Buffer.from(signed.sig, 'base64'));
  return ok ? undefined : 'the signature does not match the vote (altered after signing?)';
}

/** The verified identity that started this run, or why it cannot be known. */
export function starterOf(statement: StarterStatement | undefined, workflowId: string): { identity?: string; problem?: string } {
  if (!statement || typeof statement !== 'object') return { problem: 'the run carries no signed starter' };
  if (!starterCovers(statement, workflowId)) return { problem: `its starter statement is for ${text(statement.workflow_id)}, not this run` };
  let key;
  try {
    key = trustedKeys().get(statement.key);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const ok = key && typeof statement.sig === 'string' && verify(null, Buffer.from(starterStatement(statement)), key, Buffer.from(statement.sig, 'base64'));
  return ok ? { identity: statement.identity } : { problem: 'its starter statement is not signed by a trusted plan key' };
}

function allowed(approvers: string[], vote: Vote): boolean {
  if (approvers.length === 0) return true;
  return approvers.includes(vote.voter) || vote.groups.some((g) => approvers.includes(`group:${g}`));
}

/** The record of one ballot: counted only when every check passes. Never throws for a refusal. */
export function checkVote(input: VoteCheck): VoteRecord {
  const { ballot, policy } = input;
  const decision = ballot.decision === 'reject' ? 'reject' : 'approve';
  const refuse = (refused: string, seen?: Vote): VoteRecord => ({
    by: seen ? seen.voter : `claimed "${text(ballot.by) || 'unknown'}"`,
    decision,
    channel: seen ? seen.channel : 'signal',
    at: seen ? seen.at : input.received_at,
    reason: text(seen ? seen.reason : ballot.reason, 1000),
    counted: false,
    refused,
  });
  const signed = ballot.signed;
  if (!signed || !wellFormed(signed.vote)) return refuse('not a vote signed by the approval service (a raw signal?); decide with rebound approve/reject');
  const problem = signatureProblem(signed);
  if (problem) return refuse(problem);
  const vote = signed.vote;
  if (vote.workflow_id !== input.workflow_id || vote.execution !== input.execution || vote.step !== input.step) {
    return refuse(`the vote is for ${vote.workflow_id} step ${vote.step} (execution ${vote.execution.slice(0, 8)}), not this step of this run`, vote);
  }
  if (vote.decision !== decision) return refuse(`the vote says ${vote.decision} but arrived as ${decision}`, vote);
  if (!allowed(policy.approvers, vote)) return refuse(`${vote.voter} is not among this step's approvers (${policy.approvers.join(', ')})`, vote);
  if (!policy.allow_self_approval && decision === 'approve') {
    const starter = starterOf(input.started_by, input.workflow_id);
    if (starter.problem) return refuse(`who started this run cannot be verified (${starter.problem}), so self-approval cannot be ruled out`, vote);
    if (starter.identity === vote.voter) return refuse(`${vote.voter} started this run; self-approval is off for this step`, vote);
  }
  return { by: vote.voter, decision, channel: vote.channel, at: vote.at, reason: text(vote.reason, 1000), counted: true };
}

/** The local activity: refusals are records, not failures; only a malformed call fails. */
export async function verifyVoteActivity(input: VoteCheck): Promise<VoteRecord> {
  if (!input || typeof input !== 'object' || !input.ballot || !input.policy) {
    throw ApplicationFailure.create({ message: 'verify_vote called without a ballot and policy', type: 'invalid_input', nonRetryable: true });
  }
  return checkVote(input);
}
