// Checks every ${{ … }} in a step's inputs and rewrites hyphenated step names for the evaluator.
import { hasTemplate, scanTemplate } from '../contract/expression.ts';
import { CompileError } from './errors.ts';
import { checkExpression, type ReferenceScope } from './references.ts';
import type { StepContext } from './step-context.ts';

export function checkTemplates(value: unknown, path: (string | number)[], scope: ReferenceScope, ctx: StepContext, what: string): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const textOffset = ctx.source.scalarTextOffset(path);
    let rewritten = '';
    for (const segment of scanTemplate(value)) {
      if (segment.kind === 'text') {
        rewritten += segment.value;
        continue;
      }
      const { source, problems } = checkExpression(segment.value, scope);
      rewritten += '${{ ' + source + ' }}';
      for (const problem of problems) {
        const location = ctx.source.locate(path, { offset: textOffset === undefined ? 0 : textOffset + segment.offset });
        ctx.errors.push(new CompileError('expression', `${what}: ${problem}`, location));
      }
    }
    return rewritten;
  }
  if (Array.isArray(value)) return value.map((v, i) => checkTemplates(v, [...path, i], scope, ctx, what));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = checkTemplates(v, [...path, k], scope, ctx, what);
    return out;
  }
  return value;
}
