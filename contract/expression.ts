// `${{ }}` expressions as CEL, evaluated deterministically in the workflow (and an action's own expressions on the worker): templates, hyphenated step ids, secret references, rendering `with:`.
import { Environment } from '@marcbachmann/cel-js';

/**
 * `${{ … }}` expressions are CEL (Common Expression Language), evaluated with
 * @marcbachmann/cel-js: no `eval`, no I/O, deterministic — so the workflow evaluates them.
 * This module is imported by the workflow bundle: keep it free of Node APIs.
 */

export interface TemplateSegment {
  kind: 'text' | 'expr';
  value: string;
  /** Offset of the segment in the template (of `${{` for expressions). */
  offset: number;
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;

export function hasTemplate(text: string): boolean {
  return text.includes('${{');
}

export function scanTemplate(text: string): TemplateSegment[] {
  const segments: TemplateSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(TEMPLATE)) {
    const index = match.index ?? 0;
    if (index > last) segments.push({ kind: 'text', value: text.slice(last, index), offset: last });
    segments.push({ kind: 'expr', value: match[1]!.trim(), offset: index });
    last = index + match[0].length;
  }
  if (last < text.length) segments.push({ kind: 'text', value: text.slice(last), offset: last });
  return segments;
}

/** `if:` may be written with or without `${{ }}`, as in GitHub Actions. */
export function unwrapCondition(text: string): string {
  const segments = scanTemplate(text.trim());
  return segments.length === 1 && segments[0]!.kind === 'expr' ? segments[0]!.value : text.trim();
}

const STRING_LITERAL = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g;
const HYPHENATED = /\b(steps|params|secrets)\.([A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)+)/g;

/**
 * Step ids may hold hyphens and expressions name them as written
 * (`steps.switch-dns.outputs`). CEL reads `-` as minus, so such names become index
 * lookups (`steps["switch-dns"]`) before CEL sees them. String literals are left alone.
 * Subtraction next to one of those roots needs spaces: `params.a - 1`.
 */
export function rewriteHyphenatedNames(source: string): string {
  let out = '';
  let last = 0;
  for (const literal of source.matchAll(STRING_LITERAL)) {
    const index = literal.index ?? 0;
    out += source.slice(last, index).replace(HYPHENATED, '$1["$2"]') + literal[0];
    last = index + literal[0].length;
  }
  return out + source.slice(last).replace(HYPHENATED, '$1["$2"]');
}

const SECRET_REF = /^secrets(?:\.([A-Za-z0-9_]+)|\["([A-Za-z0-9_-]+)"\])$/;

/** The secret name when an expression is exactly a secret reference, else undefined. */
export function secretReference(source: string): string | undefined {
  const match = SECRET_REF.exec(source.trim());
  return match ? (match[1] ?? match[2]) : undefined;
}

const environment = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

export interface AstNode {
  op: string;
  args: unknown;
  pos?: number;
}

export function parseExpression(source: string): AstNode {
  return environment.parse(source).ast as AstNode;
}

/** JSON numbers that are whole become CEL ints, so `params.replicas + 1` type-checks. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}

function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return value;
}

/** What `steps.x` reads: a step's outcome and outputs. */
export interface StepResult {
  outcome: string;
  outputs: Record<string, unknown>;
}

/** One iteration of a for_each step, as `steps.x[i]` reads it: a group's has its steps' results. */
export interface IterationResult {
  outcome: string;
  item: unknown;
  index: number;
  outputs?: Record<string, unknown>;
  steps?: Record<string, StepResult>;
}

export interface ExpressionContext {
  params: Record<string, unknown>;
  /** Each step's result; a for_each step's is the list of its iterations'. */
  steps: Record<string, StepResult | IterationResult[]>;
  run: Record<string, unknown>;
  /** How the run started (contract/trigger.ts). */
  trigger?: unknown;
  /** A spec.notify message's event (workflows/notifications.ts). */
  event?: Record<string, unknown>;
  /** Inside a for_each iteration: its item and its 0-based index. */
  item?: unknown;
  index?: number;
}

/** Evaluates an (already rewritten) expression; results come back as plain JSON values. */
export function evaluateExpression(source: string, context: ExpressionContext): unknown {
  return fromCel(environment.evaluate(source, toCel(context) as Record<string, unknown>));
}

/**
 * Evaluates over names the caller binds: an action's own expression on the worker
 * (ActionSpec.deferred_expressions, http.check's `expect` over the response).
 */
export function evaluateOver(source: string, variables: Record<string, unknown>): unknown {
  return fromCel(environment.evaluate(source, toCel(variables) as Record<string, unknown>));
}

/** A secret reference inside an evaluated `with:`; the activity resolves it on the worker. */
export interface SecretRef {
  $secret: string;
}
/** A string mixing text and secret references, joined by the activity on the worker. */
export interface SecretInterpolation {
  $interpolate: Array<string | SecretRef>;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? 'null';
}

/**
 * Evaluates every `${{ }}` in a `with:` value. A string that is one expression takes the
 * expression's type; a mixed string is joined as text. Secrets stay references.
 */
export function renderValue(value: unknown, context: ExpressionContext): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const segments = scanTemplate(value);
    const parts: Array<string | SecretRef> = segments.map((segment) => {
      if (segment.kind === 'text') return segment.value;
      const secret = secretReference(segment.value);
      if (secret !== undefined) return { $secret: secret };
      const result = evaluateExpression(segment.value, context);
      return segments.length === 1 ? (result as string) : stringify(result);
    });
    if (segments.length === 1) return parts[0];
    if (parts.some((p) => typeof p !== 'string')) return { $interpolate: parts };
    return parts.join('');
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, context));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, context);
    return out;
  }
  return value;
}

/**
 * The paths in a `with:` template where rendering puts a secret reference (a string holding
 * `${{ secrets.X }}`). The worker resolves references only there, so data rendered in from an
 * alert or a step's output can never turn into one.
 */
export function secretPaths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return [];
    return scanTemplate(value).some((s) => s.kind === 'expr' && secretReference(s.value) !== undefined) ? [at] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, [...at, i]));
  // A reference written into the (signed) plan itself, as generated failback plans carry them.
  if (value && typeof value === 'object' && ('$secret' in value || '$interpolate' in value)) return [at];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => secretPaths(v, [...at, k]));
  return [];
}
