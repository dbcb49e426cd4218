// http.check's `expect`: CEL over the response, evaluated here on the worker (the response never reaches the workflow); a false result names the values it read.
import { RESPONSE_ROOTS } from '../../contract/actions/http.ts';
import { evaluateOver, parseExpression, type AstNode } from '../../contract/expression.ts';
import { ActionError } from '../runtime/errors.ts';
import type { HttpResponse } from './transport.ts';

/** The names `expect` reads (RESPONSE_ROOTS): `body` is the parsed JSON when the body parses, else the text. */
export function responseVariables(response: HttpResponse, parsed: { json?: unknown }): Record<string, unknown> {
  return {
    body: 'json' in parsed ? parsed.json : response.body,
    status: response.status,
    headers: response.headers,
    latency_ms: response.latency_ms,
    text: response.body,
  };
}

const ROOTS: ReadonlySet<string> = new Set(RESPONSE_ROOTS);
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const MAX_SHOWN = 5;

const isNode = (value: unknown): value is AstNode => !!value && typeof value === 'object' && typeof (value as AstNode).op === 'string';

/** `body.model["x-y"][0]` → ['body', 'model', 'x-y', 0]; undefined past a computed index. */
function chainOf(node: AstNode): Array<string | number> | undefined {
  if (node.op === 'id') return [String(node.args)];
  if (node.op !== '.' && node.op !== '[]') return undefined;
  const [target, field] = node.args as [unknown, unknown];
  const head = isNode(target) ? chainOf(target) : undefined;
  if (!head) return undefined;
  if (node.op === '.' && typeof field === 'string') return [...head, field];
  if (isNode(field) && field.op === 'value' && (typeof field.args === 'string' || typeof field.args === 'bigint')) {
    return [...head, typeof field.args === 'bigint' ? Number(field.args) : field.args];
  }
  return undefined;
}

/** The longest constant paths from the response's names the expression reads, in order, each once. */
function referencedPaths(source: string): Array<Array<string | number>> {
  const found = new Map<string, Array<string | number>>();
  const walk = (value: unknown, bound: ReadonlySet<string>): void => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, bound));
    if (!isNode(value)) return;
    const chain = chainOf(value);
    if (chain && ROOTS.has(String(chain[0])) && !bound.has(String(chain[0]))) {
      found.set(JSON.stringify(chain), chain);
      return;
    }
    if (value.op === 'rcall' && MACROS.has((value.args as unknown[])[0] as string)) {
      // `body.items.all(i, i.ok)`: `i` is the macro's own variable, not a response field.
      const [, target, params] = value.args as [string, unknown, unknown[]];
      const variable = isNode(params?.[0]) && params[0].op === 'id' ? String(params[0].args) : undefined;
      walk(target, bound);
      return walk(params?.slice(1), variable ? new Set([...bound, variable]) : bound);
    }
    walk(value.args, bound);
  };
  walk(parseExpression(source), new Set());
  return [...found.values()];
}

const pathText = (chain: Array<string | number>) =>
  chain.map((k, i) => (i === 0 ? k : typeof k === 'number' ? `[${k}]` : /^[A-Za-z_]\w*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function valueAt(variables: Record<string, unknown>, chain: Array<string | number>): string {
  let value: unknown = variables;
  for (const key of chain) value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[key] : undefined;
  return value === undefined ? 'absent' : shorten(JSON.stringify(value), 60);
}

/** `body.model.status = "loading", latency_ms = 340`: what a false `expect` read, short. */
function describeReads(source: string, variables: Record<string, unknown>): string {
  const paths = referencedPaths(source);
  const shown = paths.slice(0, MAX_SHOWN).map((chain) => `${pathText(chain)} = ${valueAt(variables, chain)}`);
  return shown.join(', ') + (paths.length > MAX_SHOWN ? ', …' : '');
}

/**
 * Evaluates `expect`: only `true` passes. False and a runtime error (a key the response lacks)
 * are retryable check failures — the endpoint may still be coming up — while a result that is
 * not a boolean is a mistake in the runbook no retry can mend.
 */
export function checkExpect(source: string, variables: Record<string, unknown>, where: string, mask: (text: string) => string): void {
  const expression = shorten(source, 160);
  let result: unknown;
  try {
    result = evaluateOver(source, variables);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new ActionError('check_failed', mask(`${where}: expect ${expression}: ${reason}`), { retryable: true });
  }
  if (result === true) return;
  if (result === false) {
    const reads = describeReads(source, variables);
    throw new ActionError('check_failed', mask(`${where}: expect ${expression} is false${reads ? ` (${reads})` : ''}`), { retryable: true });
  }
  const got = shorten(JSON.stringify(result) ?? String(result), 60);
  const type = result === null ? 'null' : Array.isArray(result) ? 'a list' : typeof result === 'object' ? 'a map' : `a ${typeof result}`;
  throw new ActionError('invalid_input', mask(`${where}: expect must be true or false; ${expression} gave ${got} (${type})`), { retryable: false });
}
