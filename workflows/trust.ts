// The run's first act: the worker checks the plan's signatures in a local activity; runs recorded before the check replay without it.
import { ActivityFailure, ApplicationFailure, patched, proxyLocalActivities } from '@temporalio/workflow';
import { VERIFY_PLAN_ACTIVITY, type RunInput } from '../contract/run.ts';
import type { Ctx } from './perform.ts';

const { [VERIFY_PLAN_ACTIVITY]: verifyPlan } = proxyLocalActivities<Record<string, (input: Pick<RunInput, 'plan' | 'signatures'>) => Promise<void>>>({
  startToCloseTimeout: '30s',
  // untrusted_plan: what workers before the failure catalog throw.
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['untrusted', 'untrusted_plan'] },
});

/**
 * Checks the plan before any step runs. Returns why it is refused, or undefined when it is
 * trusted (and from then on every activity and child gets the signatures to check again).
 */
export async function checkTrust(input: RunInput, ctx: Ctx): Promise<string | undefined> {
  if (!patched('trusted-plans')) return undefined;
  try {
    await verifyPlan!({ plan: input.plan, signatures: input.signatures });
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    const message = cause instanceof ApplicationFailure ? cause.message : error instanceof Error ? error.message : String(error);
    return `untrusted plan, not run: ${message}`;
  }
  ctx.signatures = input.signatures ?? {};
  return undefined;
}
