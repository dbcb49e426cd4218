// CompileError and CompileWarning: one runbook problem (or a thing to change) with its code and 1-based file:line:col location, formatted as compilers and editors print it.
/** A place in a runbook file. Lines and columns are 1-based, as editors show them. */
export interface Location {
  file: string;
  line: number;
  col: number;
}

export type CompileErrorCode =
  | 'yaml_syntax'
  | 'schema'
  | 'unknown_action'
  | 'action_input'
  | 'duplicate_step'
  | 'unknown_need'
  | 'cycle'
  | 'expression'
  | 'parameter'
  | 'drill'
  | 'child_runbook'
  | 'unknown_site'
  | 'secret_destination'
  | 'failure_code';

/** One problem in a runbook, located so an editor (or a person at 3 a.m.) can jump to it. */
export class CompileError extends Error {
  readonly code: CompileErrorCode;
  readonly location: Location;

  constructor(code: CompileErrorCode, message: string, location: Location) {
    super(message);
    this.name = 'CompileError';
    this.code = code;
    this.location = location;
  }

  /** `FILE:LINE:COL: message`, the form compilers and editors understand. */
  format(): string {
    const { file, line, col } = this.location;
    return `${file}:${line}:${col}: ${this.message}`;
  }
}

/** Something that compiles but should be written another way (an older failure name); the plan is still made. */
export class CompileWarning extends CompileError {
  constructor(code: CompileErrorCode, message: string, location: Location) {
    super(code, message, location);
    this.name = 'CompileWarning';
  }

  override format(): string {
    const { file, line, col } = this.location;
    return `${file}:${line}:${col}: warning: ${this.message}`;
  }
}
