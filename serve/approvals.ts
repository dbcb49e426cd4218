// The approval API of `rebound serve`: POST /v1/approvals/<run>/<step> {decision, reason}; the person is known by their token or client certificate, and their vote reaches the run signed.
import type { KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { castVote, recordedVote, VoteError } from '../client/approvals.ts';
import type { VoteRecord } from '../contract/approvals.ts';
import { identify, type Approvers } from './approvers.ts';
import type { Log } from './log.ts';
import type { ServeMetrics } from './metrics.ts';

export const APPROVALS_PATH = '/v1/approvals';

export interface ApprovalDeps {
  client: Client;
  log: Log;
  metrics: ServeMetrics;
  /** Undefined when serve runs without --approvers: the API answers 404 and says how to turn it on. */
  approvals: () => { approvers: Approvers; key: KeyObject } | undefined;
}

/** How long the answer waits for the worker to record the vote, so the caller learns counted or refused; a busy worker gets 202 after it. */
const RECORD_WAIT_MS = 30_000;

function parseBody(body: unknown): { decision: 'approve' | 'reject'; reason: string } {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '');
  } catch {
    throw new VoteError('the body must be JSON: {"decision": "approve" | "reject", "reason": "..."}', 400);
  }
  const { decision, reason = '' } = (data ?? {}) as Record<string, unknown>;
  if (decision !== 'approve' && decision !== 'reject') throw new VoteError('"decision" must be "approve" or "reject"', 400);
  if (typeof reason !== 'string' || reason.length > 1000) throw new VoteError('"reason" must be a string of at most 1000 characters', 400);
  return { decision, reason };
}

async function waitRecorded(client: Client, run: string, step: string, vote: Parameters<typeof recordedVote>[3]): Promise<VoteRecord | undefined> {
  for (const deadline = Date.now() + RECORD_WAIT_MS; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const record = await recordedVote(client, run, step, vote).catch(() => undefined);
    if (record) return record;
  }
  return undefined;
}

function handler(deps: ApprovalDeps) {
  return async (request: FastifyRequest<{ Params: { run: string; step: string } }>, reply: FastifyReply) => {
    const refuse = (status: number, reason: string, error: string) => {
      deps.metrics.refused.inc({ route: 'approvals', reason });
      deps.log('warn', 'approval request refused', { reason, status, error });
      return reply.code(status).send({ error });
    };
    const config = deps.approvals();
    if (!config) return refuse(404, 'disabled', 'the approval API is off: start rebound serve with --approvers FILE and REBOUND_APPROVAL_KEY');
    const voter = identify(config.approvers, request.headers, request.raw.socket);
    // No detail: a caller who is nobody in the approvers file learns nothing about why.
    if (!voter) return refuse(401, 'unauthorized', 'unauthorized');
    const { run, step } = request.params;
    try {
      const cast = await castVote(deps.client, { run, step, ...parseBody(request.body) }, voter, config.key);
      deps.log('info', 'vote cast', { run: cast.run, step: cast.step, voter: voter.name, channel: voter.channel, decision: cast.vote.decision });
      const recorded = await waitRecorded(deps.client, cast.run, cast.step, cast.vote);
      return reply.code(recorded ? 200 : 202).send({ run: cast.run, step: cast.step, vote: cast.vote, recorded: recorded ?? null });
    } catch (error) {
      if (error instanceof VoteError) return refuse(error.status, 'invalid', error.message);
      throw error;
    }
  };
}

export function registerApprovalRoutes(app: FastifyInstance, deps: ApprovalDeps): void {
  // Named like the alert routes: a refusal Fastify makes before the handler is labelled by route, not by path.
  app.post(`${APPROVALS_PATH}/:run/:step`, { config: { route: 'approvals' } }, handler(deps));
}
