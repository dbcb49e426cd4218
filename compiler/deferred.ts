// Fields whose CEL the action evaluates itself on the worker (ActionSpec.deferred_expressions, http.check's `expect`): checked against the names the action binds, stored bare so the interpreter passes them through.
import type { ActionSpec } from '../contract/action.ts';
import { hasTemplate, scanTemplate } from '../contract/expression.ts';
import { CompileError } from './errors.ts';
import { checkExpression, type ReferenceScope } from './references.ts';
import type { StepContext } from './step-context.ts';

/** Nothing of the run is in scope: the worker binds every name the expression reads. */
const NOTHING: ReadonlySet<string> = new Set();

/**
 * The expression inside a deferred field, written bare (`body.ok`) or as one `${{ … }}`, with
 * its offset in the text; undefined when it mixes text and expressions (no single CEL source).
 */
function deferredSource(text: string): { source: string; offset: number } | undefined {
  if (!hasTemplate(text)) return { source: text.trim(), offset: text.length - text.trimStart().length };
  const segments = scanTemplate(text).filter((s) => s.kind === 'expr' || s.value.trim() !== '');
  if (segments.length === 1 && segments[0]!.kind === 'expr') return { source: segments[0]!.value, offset: segments[0]!.offset };
  return undefined;
}

/**
 * Replaces each deferred field of `value` (a step's `with:` or its drill overrides) by its
 * checked, bare CEL source. A string without `${{` is what `renderValue` leaves alone, so the
 * plan carries the expression to the worker as written, and no interpreter change is needed.
 * Errors are located where the expression starts, as `checkTemplates` locates its own.
 */
export function deferExpressions(
  spec: ActionSpec | undefined,
  value: Record<string, unknown>,
  path: (string | number)[],
  ctx: StepContext,
  what: string,
): Record<string, unknown> {
  const out = { ...value };
  for (const [field, deferred] of Object.entries(spec?.deferred_expressions ?? {})) {
    const text = value[field];
    if (typeof text !== 'string') continue; // absent, or the action's schema reports the type
    const at = (offset: number) => ctx.source.locate([...path, field], { offset: (ctx.source.scalarTextOffset([...path, field]) ?? 0) + offset });
    const found = deferredSource(text);
    if (!found) {
      const why = `${what}.${field}: one CEL expression, evaluated on the worker: write it bare or as a single "\${{ … }}", not mixed with text`;
      ctx.errors.push(new CompileError('expression', why, at(0)));
      out[field] = ''; // reported once: the run's template check must not read it too
      continue;
    }
    const scope: ReferenceScope = {
      params: NOTHING,
      secrets: NOTHING,
      all: NOTHING,
      allowSecrets: false,
      visible: () => false,
      outputs: () => undefined,
      worker: { ...deferred, field },
    };
    const { source, problems } = checkExpression(found.source, scope);
    // Left in the plan, a `${{` (inside a string literal) would be evaluated by the interpreter.
    if (hasTemplate(source)) problems.push('"${{" cannot appear inside the expression; the interpreter would read it as a template');
    for (const problem of problems) ctx.errors.push(new CompileError('expression', `${what}.${field}: ${problem}`, at(found.offset)));
    out[field] = source;
  }
  return out;
}
