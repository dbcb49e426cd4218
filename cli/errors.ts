// The CLI's two failure kinds and their exit codes: UsageError (2) for a bad call, CommandFailed (1) for an invalid runbook or a failed run.
/** A mistake in how the command was called: exit code 2, as for any Unix tool. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran but what it did failed (an invalid runbook, a failed run): exit code 1. */
export class CommandFailed extends Error {
  readonly code = 'failed';
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}
