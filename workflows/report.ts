// The drill report: RTO measured to the last succeeded main step, RPO as the worst a step measured (the oldest restore point used, or a step's own rpo_ms), each judged against its objective; each simulated change's before and after.
import { iterationSteps } from '../contract/for-each.ts';
import type { Plan } from '../contract/plan.ts';
import type { DrillChange, DrillReport, RunStatus } from '../contract/run.ts';

/**
 * RTO as measured by a drill: from the run's start to the end of the last main step that
 * succeeded (the last validation, in a well-written runbook). RPO: the age of the oldest
 * restore point a step used, for steps that report `restore_point_age_ms` — unless the step
 * measured its own (`rpo_ms`: a PITR restore's target − last replayed commit, a promotion's
 * lag), which a base backup's age does not tell; `rpo_ms: null` means it could not tell.
 */
export function drillReport(plan: Plan, status: RunStatus, measuredBySteps = true, carriedFrom?: ReadonlyMap<string, string>): DrillReport {
  const start = Date.parse(status.started_at);
  const main = status.steps.filter((s) => s.phase === 'main' && s.status === 'succeeded' && s.ended_at);
  const lastEnd = Math.max(...main.map((s) => Date.parse(s.ended_at!)), start);
  const rtoMeasured = status.state === 'running' || main.length === 0 ? undefined : lastEnd - start;
  const ages = main.map((s) => stepRpo(s.outputs ?? {}, measuredBySteps)).filter((a): a is number => typeof a === 'number');
  const rpoMeasured = ages.length ? Math.max(...ages) : undefined;
  const judge = (objective?: number, measured?: number) => ({
    ...(objective !== undefined ? { objective_ms: objective } : {}),
    ...(measured !== undefined ? { measured_ms: measured } : {}),
    ...(objective !== undefined && measured !== undefined ? { met: measured <= objective } : {}),
  });
  return {
    rto: judge(plan.objectives.rto_ms, rtoMeasured),
    rpo: { ...judge(plan.objectives.rpo_ms, rpoMeasured), ...(rpoMeasured === undefined ? { note: 'no step used a restore point' } : {}) },
    ...(carriedFrom ? { changes: drillChanges(plan, status, carriedFrom) } : {}),
  };
}

/**
 * Each simulated production step that ran: the state it would find (`previous`: what an earlier
 * simulated step on its resource would have left, patch drill-state, or the real one) and leave.
 */
function drillChanges(plan: Plan, status: RunStatus, carriedFrom: ReadonlyMap<string, string>): DrillChange[] {
  const planned = [...plan.steps, ...plan.on_failure, ...plan.finally];
  const ids = status.steps.map((s) => s.id);
  // A for_each step's iterations (`shift[2]`, `fan[1].set`) are the steps that simulated.
  const all = [...planned, ...planned.flatMap((s) => iterationSteps(s, ids))];
  const production = new Set(all.filter((s) => s.impact === 'production' && !s.for_each).map((s) => s.id));
  return status.steps
    .filter((s) => s.execution === 'simulate' && production.has(s.id) && s.outputs)
    .map((s) => ({
      step: s.id,
      ...('previous' in s.outputs! ? { before: s.outputs!.previous } : {}),
      ...('current' in s.outputs! ? { after: s.outputs!.current } : {}),
      ...(carriedFrom.has(s.id) ? { before_from: carriedFrom.get(s.id)! } : {}),
    }));
}

/** A step's RPO figure; `measuredBySteps` false: as runs recorded before patch rpo-measured-by-step judged it. */
function stepRpo(outputs: Record<string, unknown>, measuredBySteps: boolean): unknown {
  if (measuredBySteps && 'rpo_ms' in outputs) return outputs.rpo_ms;
  return outputs.restore_point_age_ms;
}
