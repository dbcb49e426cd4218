// The approval step: under its policy (patch approval-policy) each ballot is checked by the worker, counted once per person, and the step ends at N approvals, one rejection or the timeout; older runs replay the first-signal rule.
import { condition, patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { VERIFY_VOTE_ACTIVITY, type ApprovalPolicy, type SignedVote, type VoteCheck, type VoteRecord } from '../contract/approvals.ts';
import { parseDuration } from '../contract/duration.ts';
import type { PlanStep } from '../contract/plan.ts';
import type { Decision } from '../contract/run.ts';
import { StepRejected, type Ctx, type Outputs } from './perform.ts';

/** A signal as it arrived for a waiting approval step; nothing in it is trusted until checked. */
export interface Ballot {
  decision: 'approve' | 'reject';
  by?: string;
  reason?: string;
  signed?: SignedVote;
  received_at: string;
}

export interface Approvals {
  /** The first signal per step: what runs recorded before approval-policy decided by. */
  decisions: Map<string, { decision: 'approved' | 'rejected' } & Decision>;
  /** Every ballot per step, in arrival order (bounded). */
  ballots: Map<string, Ballot[]>;
  /** The records the status shows for a step (its StepState's `votes`). */
  recordsOf: (step: string) => VoteRecord[];
}

/** More ballots than this for one step are dropped: a flood of signals cannot grow the history without end. */
export const MAX_BALLOTS = 100;

const { [VERIFY_VOTE_ACTIVITY]: verifyVote } = proxyLocalActivities<Record<string, (input: VoteCheck) => Promise<VoteRecord>>>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

const timeoutOf = (input: Record<string, unknown>): number => parseDuration(String(input.timeout ?? '1h')) ?? 3_600_000;

function policyOf(input: Record<string, unknown>): ApprovalPolicy {
  return {
    approvers: Array.isArray(input.approvers) ? input.approvers.map(String) : [],
    min_approvals: typeof input.min_approvals === 'number' ? input.min_approvals : 1,
    allow_self_approval: input.allow_self_approval === true,
  };
}

/** Before approval-policy: the first signal decides, and `by` is whatever it says. */
async function firstSignal(step: PlanStep, input: Record<string, unknown>, ctx: Ctx): Promise<Outputs> {
  const decided = await condition(() => ctx.approvals.decisions.has(step.id), timeoutOf(input));
  const decision = ctx.approvals.decisions.get(step.id);
  const outcome =
    decided && decision
      ? { decision: decision.decision, by: decision.by ?? 'unknown', reason: decision.reason ?? '', timed_out: false }
      : {
          decision: input.on_timeout === 'approve' ? 'approved' : 'rejected',
          by: 'timeout',
          reason: `no decision within ${String(input.timeout ?? '1h')}`,
          timed_out: true,
        };
  if (outcome.decision === 'rejected') throw new StepRejected(`rejected by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`);
  return { outputs: outcome, attempt: 1 };
}

/** The worker checks the ballot; a check that cannot be made refuses it (fail closed). */
async function check(ballot: Ballot, policy: ApprovalPolicy, ctx: Ctx, step: PlanStep): Promise<VoteRecord> {
  const info = workflowInfo();
  const { received_at, ...rest } = ballot;
  const input: VoteCheck = { ballot: rest, policy, workflow_id: info.workflowId, execution: info.runId, step: step.id, received_at };
  try {
    return await verifyVote!(ctx.startedBy ? { ...input, started_by: ctx.startedBy } : input);
  } catch (error) {
    const by = typeof ballot.by === 'string' ? ballot.by.slice(0, 200) : 'unknown';
    const why = `the vote could not be checked: ${error instanceof Error ? error.message : String(error)}`;
    return { by, decision: ballot.decision, channel: 'signal', at: received_at, reason: '', counted: false, refused: why };
  }
}

/** When time runs out: on_timeout decides, and an auto-approval says so. */
function timedOut(input: Record<string, unknown>, approvedBy: string[]): Outputs {
  const reason = `no decision within ${String(input.timeout ?? '1h')}`;
  if (input.on_timeout !== 'approve') throw new StepRejected(`rejected by timeout: ${reason}`);
  return { outputs: { decision: 'approved', by: 'timeout', reason: `auto-approved: ${reason}`, timed_out: true, approved_by: approvedBy }, attempt: 1 };
}

/** Under approval-policy: ballots in arrival order, each checked, one counted vote per person. */
async function byPolicy(step: PlanStep, input: Record<string, unknown>, ctx: Ctx): Promise<Outputs> {
  const policy = policyOf(input);
  const deadline = Date.now() + timeoutOf(input);
  const ballots = ctx.approvals.ballots.get(step.id) ?? [];
  ctx.approvals.ballots.set(step.id, ballots);
  const records = ctx.approvals.recordsOf(step.id);
  ctx.notify?.('approval_waiting', {
    step: step.id,
    approvers: policy.approvers,
    min_approvals: policy.min_approvals,
    deadline: new Date(deadline).toISOString(),
    on_timeout: input.on_timeout === 'approve' ? 'approve' : 'reject',
    approve_command: `rebound approve ${ctx.runId} ${step.id}`,
    reject_command: `rebound reject ${ctx.runId} ${step.id} --reason "…"`,
  });
  const approvedBy: string[] = [];
  const voted = new Set<string>();
  for (let seen = 0; ; seen++) {
    if (seen >= ballots.length) {
      const remaining = deadline - Date.now();
      const arrived = remaining > 0 && (await condition(() => ballots.length > seen, remaining));
      if (!arrived) return timedOut(input, approvedBy);
    }
    const record = await check(ballots[seen]!, policy, ctx, step);
    if (record.counted && voted.has(record.by)) Object.assign(record, { counted: false, refused: `${record.by} has already voted on this step` });
    records.push(record);
    if (!record.counted) continue;
    voted.add(record.by);
    if (record.decision === 'reject') throw new StepRejected(`rejected by ${record.by}${record.reason ? `: ${record.reason}` : ''}`);
    approvedBy.push(record.by);
    if (approvedBy.length >= policy.min_approvals) {
      return { outputs: { decision: 'approved', by: approvedBy.join(', '), reason: record.reason, timed_out: false, approved_by: approvedBy }, attempt: 1 };
    }
  }
}

export async function runApproval(step: PlanStep, input: Record<string, unknown>, ctx: Ctx): Promise<Outputs> {
  if (!patched('approval-policy')) return firstSignal(step, input, ctx);
  try {
    return await byPolicy(step, input, ctx);
  } finally {
    ctx.decided?.(step.id);
  }
}
