// What a step does in a drill: run, simulate or skip, decided from its action's impact and `drill:`.
import type { Execution } from '../contract/plan.ts';
import { CompileError } from './errors.ts';
import type { ParsedStep, StepContext } from './step-context.ts';

/** Drill overrides replace the step's targets; production actions are simulated by default. */
export function execution(step: ParsedStep, ctx: StepContext): { execution: Execution; overrides?: Record<string, unknown> } {
  const { doc, spec, path } = step;
  if (ctx.mode === 'run' || !spec) return { execution: 'run' };
  const drill = doc.drill;
  const fail = (message: string): { execution: Execution } => {
    ctx.errors.push(new CompileError('drill', `step "${doc.id}" (${spec.name}): ${message}`, ctx.source.locate([...path, doc.drill ? 'drill' : 'uses'])));
    return { execution: 'skip' };
  };
  if (drill === 'skip') return { execution: 'skip' };
  if (typeof drill === 'object') {
    const targets = spec.drill_targets ?? [];
    if (spec.impact !== 'read' && targets.length && !targets.some((t) => t in drill.with)) {
      return fail(`drill overrides must replace where the change lands (${targets.join(' or ')}); otherwise the drill would touch production`);
    }
    return { execution: 'run', overrides: drill.with };
  }
  if (drill === 'simulate') {
    return spec.simulates
      ? { execution: 'simulate' }
      : fail(`${spec.name} cannot report a change without making it; use drill: skip, or drill: {with: {…}} scratch targets`);
  }
  if (drill === 'run') {
    return spec.impact === 'production'
      ? fail('a drill would touch production; give drill-safe targets with drill: {with: {…}}, or drill: simulate')
      : { execution: 'run' };
  }
  if (spec.impact === 'production' && spec.simulates) return { execution: 'simulate' };
  if (spec.impact === 'write' && spec.drill_safe?.((doc.with ?? {}) as Record<string, unknown>)) return { execution: 'run' };
  if (spec.impact !== 'read') {
    const targets = spec.drill_targets?.length ? ` (${spec.drill_targets.join(', ')})` : '';
    return fail(
      `a drill must not write to the targets of a real run; give drill: {with: {…}} scratch targets${targets}${spec.simulates ? ', or drill: simulate' : ''}, or drill: skip`,
    );
  }
  return { execution: 'run' };
}
