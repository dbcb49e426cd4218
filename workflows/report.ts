// The drill report: RTO measured to the last succeeded main step, RPO as the worst a step measured (the oldest restore point used, or a step's own rpo_ms), each judged against its objective.
import type { Plan } from '../contract/plan.ts';
import type { DrillReport, RunStatus } from '../contract/run.ts';

/**
 * RTO as measured by a drill: from the run's start to the end of the last main step that
 * succeeded (the last validation, in a well-written runbook). RPO: the age of the oldest
 * restore point a step used, for steps that report `restore_point_age_ms` — unless the step
 * measured its own (`rpo_ms`: a PITR restore's target − last replayed commit, a promotion's
 * lag), which a base backup's age does not tell; `rpo_ms: null` means it could not tell.
 */
export function drillReport(plan: Plan, status: RunStatus, measuredBySteps = true): DrillReport {
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
  };
}

/** A step's RPO figure; `measuredBySteps` false: as runs recorded before patch rpo-measured-by-step judged it. */
function stepRpo(outputs: Record<string, unknown>, measuredBySteps: boolean): unknown {
  if (measuredBySteps && 'rpo_ms' in outputs) return outputs.rpo_ms;
  return outputs.restore_point_age_ms;
}
