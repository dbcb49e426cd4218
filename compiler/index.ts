// The compiler's public entry: compile runbook text or a file (child runbooks read relative to it), plus Plan types and parameter resolution.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { compile, type CompileResult } from './compile.ts';
import type { Mode } from '../contract/plan.ts';

export { compile, hashPlan } from './compile.ts';
export { CompileError } from './errors.ts';
export { resolveParams, parseParamArgs, ParameterError } from '../contract/params.ts';
export type { Plan, PlanStep, Mode } from '../contract/plan.ts';

/** Compiles a runbook file; child runbooks are read relative to the file that names them. */
export function compileFile(path: string, mode: Mode = 'run'): CompileResult {
  const display = relative(process.cwd(), path) || path;
  return compile(readFileSync(path, 'utf8'), {
    file: display,
    mode,
    load: (child, from) => {
      const full = resolve(dirname(resolve(from)), child);
      if (!existsSync(full)) return undefined;
      return { file: relative(process.cwd(), full), text: readFileSync(full, 'utf8') };
    },
  });
}
