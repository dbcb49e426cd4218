// Loading a runbook for the CLI: the --mode option and its parsing, compile the file, print each located warning, and each located error and fail.
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { compileFile, type Mode, type Plan } from '../compiler/index.ts';
import { CommandFailed, UsageError } from './errors.ts';

/** `--mode`, as every verb that compiles a runbook takes it. */
export const modeOption = () => new Option('--mode <mode>', 'run (for real) or drill (scratch targets, simulated production changes)').default('run');

export function parseMode(value: string | undefined): Mode {
  if (value === undefined || value === 'run' || value === 'drill') return value ?? 'run';
  throw new UsageError(`--mode must be run or drill, not "${value}"`);
}

/** Compiles a runbook file or prints one `FILE:LINE:COL: message` line per error and fails; warnings are printed either way. */
export function loadPlan(file: string, mode: Mode): Plan {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const { plan, errors, warnings } = compileFile(file, mode);
  for (const warning of warnings) process.stderr.write(`${warning.format()}\n`);
  if (!plan) {
    for (const error of errors) process.stderr.write(`${error.format()}\n`);
    throw new CommandFailed(`${file}: ${errors.length} error(s)`);
  }
  return plan;
}
