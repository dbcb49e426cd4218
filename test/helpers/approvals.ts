// Test helpers for approvals: an in-process `rebound serve` with an approvers file of named tokens (and mTLS subjects), and a vote through its API as one of them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { approvalKey, castVote, recordedVote } from '../../client/approvals.ts';
import type { Vote, VoteRecord } from '../../contract/approvals.ts';

/** The run's record of a vote, once the worker has checked it. */
async function recordOf(client: Client, run: string, step: string, vote: Vote): Promise<VoteRecord> {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const record = await recordedVote(client, run, step, vote);
    if (record) return record;
  }
  throw new Error(`the run never recorded ${vote.voter}'s vote on ${run} ${step}`);
}
import { startServe, type RunningServe } from '../../serve/server.ts';

/** The people every approval test knows: alice, bob and carol are SREs, dave is a developer. */
export const PEOPLE: Record<string, { groups: string[]; certificate?: string }> = {
  alice: { groups: ['sre'] },
  bob: { groups: ['sre'] },
  carol: { groups: ['sre', 'dba'], certificate: 'carol' },
  dave: { groups: ['dev'] },
};

export interface ApprovalService {
  url: string;
  dir: string;
  tokens: Record<string, string>;
  approvers: string;
  /** Posts a decision as `who` (by token); the answer's status and body. */
  vote(run: string, step: string, decision: 'approve' | 'reject', who: string, reason?: string): Promise<{ status: number; body: VoteAnswer }>;
  close(): Promise<void>;
}

export interface VoteAnswer {
  error?: string;
  recorded?: VoteRecord | null;
}

/** Writes an approvers file with a fresh token per person and starts serve with it (TLS options passed through). */
export async function startApprovalService(client: Client, tls: { tlsCert?: string; tlsKey?: string; clientCa?: string } = {}): Promise<ApprovalService> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-approvals-'));
  const tokens = Object.fromEntries(Object.keys(PEOPLE).map((name) => [name, randomBytes(32).toString('base64url')]));
  const approvers = join(dir, 'approvers.yaml');
  const file = Object.fromEntries(
    Object.entries(PEOPLE).map(([name, p]) => [
      name,
      { token_sha256: createHash('sha256').update(tokens[name]!).digest('hex'), groups: p.groups, ...(p.certificate ? { certificate: p.certificate } : {}) },
    ]),
  );
  writeFileSync(approvers, stringify({ approvers: file }));
  // Alert routes need their own credential; these tests use only the approval API.
  process.env.REBOUND_SERVE_TOKEN ??= randomBytes(32).toString('hex');
  const server: RunningServe = await startServe({ runbooks: dir, host: '127.0.0.1', port: 0, taskQueue: 'unused', approvers, ...tls }, client, () => {});
  return {
    url: server.url,
    dir,
    tokens,
    approvers,
    async vote(run, step, decision, who, reason = '') {
      const response = await fetch(`${server.url}/v1/approvals/${encodeURIComponent(run)}/${encodeURIComponent(step)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[who] ?? who}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision, reason }),
      });
      const body = (await response.json()) as VoteAnswer & { run?: string; step?: string; vote?: Vote };
      // A busy worker may record the vote after serve has answered 202: read the record from the run then.
      if (response.status === 202 && body.vote) body.recorded = await recordOf(client, body.run!, body.step!, body.vote);
      return { status: response.status, body };
    },
    close: () => server.close(),
  };
}

/** A vote the approval service would sign, cast straight through Temporal (for tests where the approval only gates the run). */
export async function voteAs(client: Client, run: string, step: string, name: string, decision: 'approve' | 'reject' = 'approve'): Promise<void> {
  await castVote(client, { run, step, decision, reason: '' }, { name, groups: [], channel: 'token' }, approvalKey());
}
