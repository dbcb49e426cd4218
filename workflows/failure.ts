// Reading step failures inside the workflow: the innermost message, and the attempt count and worker the action wrapper recorded.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure, TimeoutFailure } from '@temporalio/workflow';

/** The innermost failure's message: what went wrong, as the action reported it. */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof TimeoutFailure) return `timed out (${String(current.timeoutType).replace('TIMEOUT_TYPE_', '').toLowerCase()})`;
  if (current instanceof TemporalFailure || current instanceof Error) return current.message;
  return String(current);
}

/** Attempts an activity took, as our action wrapper records in its failure details. */
export function attemptsOf(error: unknown): number | undefined {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure) {
    const detail = current.details?.[0] as { attempt?: number } | undefined;
    return typeof detail?.attempt === 'number' ? detail.attempt : undefined;
  }
  return undefined;
}

/** The worker that ran the failing attempt, as our action wrapper records in its failure details. */
export function workerOf(error: unknown): string | undefined {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (!(current instanceof ApplicationFailure)) return undefined;
  const detail = current.details?.[0] as { worker?: unknown } | undefined;
  return typeof detail?.worker === 'string' ? detail.worker : undefined;
}
