// The runbooks `rebound serve` answers for: every runbook in a directory with an alert trigger, compiled in its trigger's mode.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, type Plan } from '../compiler/index.ts';
import type { AlertTriggerPlan } from '../contract/trigger.ts';
import type { Log } from './log.ts';
import { compileMatchers, type Matcher } from './match.ts';

export interface AlertRunbook {
  file: string;
  plan: Plan;
  trigger: AlertTriggerPlan;
  matchers: Matcher[];
}

/** A directory that cannot be read at all: nothing to serve, said with the path. */
export class RunbookDirectoryError extends Error {
  readonly code = 'runbook_directory';
  constructor(dir: string, cause: NodeJS.ErrnoException) {
    super(`cannot read the runbooks directory ${dir} (${cause.code ?? cause.message}); pass an existing directory with --runbooks`);
    this.name = 'RunbookDirectoryError';
  }
}

export function runbookFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch (error) {
    throw new RunbookDirectoryError(dir, error as NodeJS.ErrnoException);
  }
}

/** Compiles one file; a runbook that does not compile is logged with file:line:col and left out. */
function loadOne(file: string, log: Log): AlertRunbook | undefined {
  const first = compileFile(file, 'run');
  const trigger = first.plan?.triggers.alert;
  const result = trigger?.mode === 'drill' ? compileFile(file, 'drill') : first;
  if (!result.plan) {
    log('error', 'runbook left out: it does not compile', { file, errors: result.errors.map((e) => e.format()) });
    return undefined;
  }
  if (!trigger) return undefined;
  return { file, plan: result.plan, trigger, matchers: compileMatchers(trigger.match) };
}

/** Every alert-triggered runbook in `dir`; a name used twice keeps the first file and logs the second. */
export function loadRunbooks(dir: string, log: Log): AlertRunbook[] {
  const loaded: AlertRunbook[] = [];
  for (const file of runbookFiles(dir)) {
    const runbook = loadOne(file, log);
    if (!runbook) continue;
    const twin = loaded.find((r) => r.plan.name === runbook.plan.name);
    if (twin) {
      log('error', 'runbook left out: its name is taken', { file, runbook: runbook.plan.name, taken_by: twin.file });
      continue;
    }
    loaded.push(runbook);
  }
  log('info', 'runbooks loaded', { dir, runbooks: loaded.map((r) => r.plan.name) });
  return loaded;
}
