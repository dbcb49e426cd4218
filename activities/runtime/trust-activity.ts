// The plan check as a (local) activity the interpreter runs first: refusals are non-retryable failures typed untrusted_plan.
import { ApplicationFailure } from '@temporalio/activity';
import type { PlanSignatures } from '../../contract/canonical.ts';
import type { FailureCode } from '../../contract/failures.ts';
import type { Plan } from '../../contract/plan.ts';
import { verifyPlan } from './trust.ts';

export async function verifyPlanActivity(input: { plan: Plan; signatures?: PlanSignatures }): Promise<void> {
  try {
    verifyPlan(input.plan, input.signatures);
  } catch (error) {
    // A worker without trusted keys refuses too, and says what to configure.
    const message = error instanceof Error ? error.message : String(error);
    throw ApplicationFailure.create({ message, type: 'untrusted' satisfies FailureCode, nonRetryable: true });
  }
}
