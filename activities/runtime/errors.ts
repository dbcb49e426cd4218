// ActionError: an action failure with a catalog code (contract/failures.ts) and a retry verdict, which the activity wrapper reports with the backend and the step.
import type { PartialChange } from '../../contract/action.ts';
import { FAILURE_CODES, type FailureCode } from '../../contract/failures.ts';

/**
 * An action failure with what a person needs at 3 a.m.: the backend, a code, and whether
 * retrying can help. The code is one of the catalog's, so one `non_retryable` entry covers
 * every integration; the retry verdict defaults to the catalog's for that code. The activity
 * wrapper adds the step and the verdict. A production action that may have changed something
 * before failing says what in `partial`, which the wrapper puts in the failure details for a
 * failback.
 */
export class ActionError extends Error {
  readonly code: FailureCode;
  readonly retryable: boolean;
  readonly partial?: PartialChange;
  /** When the backend said how long to wait (HTTP 429's Retry-After): the next attempt waits that long instead of the step's backoff. */
  readonly retryAfterMs?: number;
  constructor(code: FailureCode, message: string, options: { retryable?: boolean; cause?: unknown; partial?: PartialChange; retryAfterMs?: number } = {}) {
    super(message, options.cause ? { cause: options.cause } : undefined);
    this.name = 'ActionError';
    this.code = code;
    this.retryable = options.retryable ?? FAILURE_CODES[code].retryable;
    if (options.partial) this.partial = options.partial;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The same failure, carrying what the action may have changed; an unexpected error becomes a retryable ActionError (as the wrapper would report it). */
export function withPartial(error: unknown, partial: PartialChange): ActionError {
  if (error instanceof ActionError) return new ActionError(error.code, error.message, { retryable: error.retryable, cause: error.cause ?? error, partial });
  const message = error instanceof Error ? error.message : String(error);
  return new ActionError('unexpected', message, { retryable: true, cause: error, partial });
}
