// Compiles a traffic.shift step's `analysis:` checks: read actions, each compiled like a step in the shift's own scope.
import { ACTIONS } from '../contract/actions/registry.ts';
import type { PlanStep } from '../contract/plan.ts';
import { CompileError } from './errors.ts';
import { compileStep, type PhaseScope } from './step.ts';
import type { ParsedStep } from './step-context.ts';
import { didYouMean } from './suggest.ts';

/** Adds the compiled `analysis:` to a traffic.shift step; reports it anywhere else. */
export function withAnalysis(planned: PlanStep, step: ParsedStep, phase: PhaseScope): PlanStep {
  const { doc, path } = step;
  const { ctx } = phase;
  if (!doc.analysis) return planned;
  if (doc.uses !== 'traffic.shift') {
    ctx.errors.push(
      new CompileError(
        'schema',
        `step "${doc.id}": analysis: only traffic.shift runs analysis checks (between its steps)`,
        ctx.source.locate([...path, 'analysis']),
      ),
    );
    return planned;
  }
  const ids = new Set<string>();
  const analysis = doc.analysis.flatMap((check, i): PlanStep[] => {
    const at = [...path, 'analysis', i];
    const id = check.id ?? `check-${i + 1}`;
    const spec = ACTIONS.get(check.uses);
    const fail = (message: string, field: string) => {
      ctx.errors.push(new CompileError('schema', `step "${doc.id}" analysis ${i + 1}: ${message}`, ctx.source.locate([...at, field])));
      return [];
    };
    if (ids.has(id)) return fail(`duplicate check id "${id}"`, 'id');
    ids.add(id);
    if (!spec) return fail(`unknown action "${check.uses}"${didYouMean(check.uses, ACTIONS.keys())}`, 'uses');
    if (spec.impact !== 'read' || spec.kind !== 'activity') {
      return fail(`${spec.name} is not a read action; an analysis only looks (http.check, metrics.check, k8s.wait, …)`, 'uses');
    }
    // Compiled under the shift's id, so it may read exactly what the shift may read; then named as its check.
    const parsed: ParsedStep = { doc: { ...check, id: doc.id }, path: at, spec };
    const compiled = compileStep(parsed, phase);
    return [{ ...compiled, id: `${doc.id}.${id}`, needs: [], after: [] }];
  });
  return { ...planned, analysis };
}
