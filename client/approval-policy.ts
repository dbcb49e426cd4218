// An approval step's policy in words (who decides, how many, self-approval, timeout): what `rebound plan` and the console both show beside the step.
import type { PlanStep } from '../contract/plan.ts';

export function approvalPolicy(step: PlanStep): string {
  const w = step.with as Record<string, unknown>;
  const approvers = Array.isArray(w.approvers) && w.approvers.length ? w.approvers.join(', ') : 'anyone in the approvers file';
  const min = typeof w.min_approvals === 'number' ? w.min_approvals : 1;
  const self = w.allow_self_approval === true ? 'self-approval allowed' : 'not by who started the run';
  return `${min} of ${approvers}; ${self}; waits ${String(w.timeout ?? '1h')}, then ${w.on_timeout === 'approve' ? 'approves' : 'rejects'}`;
}
