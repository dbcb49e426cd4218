// What runbooks' plans say about posture: the services their backup steps take points of (with labels and the RPO objective), replication steps, and when their schedules fire next.
import { CronExpressionParser } from 'cron-parser';
import { ACTIONS } from '../contract/actions/registry.ts';
import type { Plan, PlanStep } from '../contract/plan.ts';
import type { ScheduleTriggerPlan } from '../contract/trigger.ts';

/** A step of a plan that names a service: a backup (takes its points) or a replication read (measures its replica lag). */
export interface ServiceStep {
  runbook: string;
  step: string;
  uses: string;
  service: string;
  role: 'backup' | 'replication';
  labels: Record<string, string>;
  /** The RPO objective of the runbook holding the step (a child's own, else its parent's). */
  rpo_ms?: number;
}

/** The input fields every backup action takes (contract/actions/points.ts backupPointFields, with `service`). */
const BACKUP_FIELDS = ['service', 'labels', 'set_id'];

function inputKeys(uses: string): string[] {
  const input = ACTIONS.get(uses)?.input as { shape?: Record<string, unknown> } | undefined;
  return input?.shape ? Object.keys(input.shape) : [];
}

function outputKeys(uses: string): string[] {
  const output = ACTIONS.get(uses)?.output as { shape?: Record<string, unknown> } | undefined;
  return output?.shape ? Object.keys(output.shape) : [];
}

/** backup: takes `service`, `labels`, `set_id`; replication: takes `service` and reports `lag_seconds` (postgres/redis .replication and .promote). */
function roleOf(uses: string): ServiceStep['role'] | undefined {
  const keys = inputKeys(uses);
  if (BACKUP_FIELDS.every((k) => keys.includes(k))) return 'backup';
  if (keys.includes('service') && outputKeys(uses).includes('lag_seconds')) return 'replication';
  return undefined;
}

const PARAM_ONLY = /^\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/**
 * The service a step names: a literal, or `${{ params.x }}` with x's default (what a schedule
 * or a manual run without it takes). Anything else is only known at run time: undefined.
 */
export function serviceOf(value: unknown, plan: Plan): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (!value.includes('${{')) return value;
  const param = PARAM_ONLY.exec(value)?.[1];
  const fallback = param ? plan.parameters[param]?.default : undefined;
  return typeof fallback === 'string' && fallback !== '' ? fallback : undefined;
}

function stringLabels(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string' && !e[1].includes('${{')));
}

function allSteps(steps: PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => [s, ...allSteps(s.for_each?.steps ?? []), ...allSteps(s.analysis ?? [])]);
}

/** Every backup and replication step of a plan and of the child runbooks it runs, under the top runbook's name. */
export function serviceSteps(plan: Plan, runbook = plan.name, rpoMs = plan.objectives.rpo_ms): ServiceStep[] {
  const rpo = plan.objectives.rpo_ms ?? rpoMs;
  const own = allSteps([...plan.steps, ...plan.on_failure, ...plan.finally]).flatMap((s): ServiceStep[] => {
    const role = roleOf(s.uses);
    const service = role ? serviceOf(s.with.service, plan) : undefined;
    if (!role || !service) return [];
    return [{ runbook, step: s.id, uses: s.uses, service, role, labels: stringLabels(s.with.labels), ...(rpo !== undefined ? { rpo_ms: rpo } : {}) }];
  });
  return [...own, ...Object.values(plan.children).flatMap((child) => serviceSteps(child, runbook, rpo))];
}

/**
 * When a schedule fires next after `now`: a cron's next time (in its time zone), an interval's
 * next multiple of its period since the epoch (how Temporal aligns `every` without an offset).
 * Jitter is left out: it only delays.
 */
export function nextFire(schedule: ScheduleTriggerPlan, now: number): string | undefined {
  if (schedule.cron) {
    try {
      const at = CronExpressionParser.parse(schedule.cron, { currentDate: new Date(now), ...(schedule.timezone ? { tz: schedule.timezone } : {}) });
      return at.next().toDate().toISOString();
    } catch {
      return undefined;
    }
  }
  if (!schedule.every_ms) return undefined;
  return new Date((Math.floor(now / schedule.every_ms) + 1) * schedule.every_ms).toISOString();
}
