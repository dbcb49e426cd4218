// Runbook parameters at run start: parse `--param name=value`, check names and types against the plan, fill in defaults.
import { parseDuration } from './duration.ts';
import type { Plan } from './plan.ts';

/** A `--param` problem: an undeclared name or a value of the wrong type. */
export class ParameterError extends Error {
  readonly code = 'parameter';
  constructor(message: string) {
    super(message);
    this.name = 'ParameterError';
  }
}

function coerce(name: string, type: Plan['parameters'][string]['type'], raw: unknown): string | number | boolean {
  if (type === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new ParameterError(`parameter "${name}" must be a number, got ${JSON.stringify(raw)}`);
    return n;
  }
  if (type === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new ParameterError(`parameter "${name}" must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (typeof raw !== 'string') throw new ParameterError(`parameter "${name}" must be a ${type}, got ${JSON.stringify(raw)}`);
  if (type === 'duration' && parseDuration(raw) === undefined) {
    throw new ParameterError(`parameter "${name}" must be a duration such as 30s or 10m, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** Checks given values against the plan's declared parameters and fills in defaults. */
export function resolveParams(plan: Pick<Plan, 'parameters' | 'name'>, given: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const name of Object.keys(given)) {
    if (!(name in plan.parameters)) {
      const declared = Object.keys(plan.parameters);
      throw new ParameterError(`runbook "${plan.name}" has no parameter "${name}"; it declares ${declared.length ? declared.join(', ') : 'none'}`);
    }
  }
  for (const [name, spec] of Object.entries(plan.parameters)) {
    if (name in given) out[name] = coerce(name, spec.type, given[name]);
    else if (spec.default !== undefined) out[name] = spec.default;
    else if (spec.required) throw new ParameterError(`parameter "${name}" is required; pass --param ${name}=…`);
  }
  return out;
}

/** Parses `k=v` pairs from the command line. */
export function parseParamArgs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ParameterError(`--param expects name=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
