// ActionError: an action failure with a code and a retry verdict, which the activity wrapper reports with the backend and the step.
/**
 * An action failure with what a person needs at 3 a.m.: the backend, a code, and whether
 * retrying can help. The activity wrapper adds the step and the retry verdict.
 */
export class ActionError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause ? { cause: options.cause } : undefined);
    this.name = 'ActionError';
    this.code = code;
    this.retryable = options.retryable;
  }
}
