// A run's report as data: objectives against measured RTO/RPO, the step timeline, approvals and the changes made (or, in drills, would be), its child runbooks' included.
import type { VoteRecord } from '../../contract/approvals.ts';
import type { Plan, PlanStep } from '../../contract/plan.ts';
import type { RunInput, RunStatus, StepState, NotificationRecord } from '../../contract/run.ts';
import { flatRun, type RunTree } from '../run-tree.ts';
import { sitesOf, stepSite, type SiteEntry } from './sites.ts';

export interface TimelineEntry {
  id: string;
  name?: string;
  uses: string;
  phase: StepState['phase'];
  execution: StepState['execution'];
  status: StepState['status'];
  attempt: number;
  started_at?: string;
  ended_at?: string;
  duration_ms?: number;
  worker?: string;
  /** The site it ran on, or was sent to (client/report/sites.ts). */
  site?: string;
  reason?: string;
}

export interface ApprovalEntry {
  step: string;
  decision: string;
  by: string;
  reason: string;
  at?: string;
  timed_out: boolean;
  /** Nobody decided: on_timeout approved it. */
  auto_approved?: boolean;
  /** Every ballot, counted or refused (runs under approval-policy). */
  votes?: VoteRecord[];
}

export interface ChangeEntry {
  step: string;
  uses: string;
  status: StepState['status'];
  /** A drill's preflight (the change it would make) rather than a change made. */
  simulated: boolean;
  changed?: boolean;
  /** The state it found (a drill's: would find — what `before_from` would have left, or the real one). */
  previous?: unknown;
  /** The state it left (a drill's: would leave). */
  current?: unknown;
  /** A drill: the earlier simulated step whose state `previous` is (patch drill-state); absent: read from the real resource. */
  before_from?: string;
  preflight?: string[];
  at?: string;
  reason?: string;
}

export interface RestorePointEntry {
  step: string;
  /** The service the point (or replica) belongs to, when the step's action reports it. */
  service?: string;
  restore_point?: string;
  /** A restore point's age when used, a replica's lag (objects.check/replicate), or what the step measured itself (`rpo_ms`). */
  age_ms: number;
  source: 'restore_point' | 'replica' | 'measured';
  /** How it was measured: `point age` (a dump's), `replica lag`, or the step's own `rpo_method` (`PITR gap`, `replica lag at promotion`). */
  method: string;
}

/** One service's RPO: the oldest of the points (or replica lags) the run measured for it. */
export interface ServiceRpo {
  service: string;
  age_ms: number;
  steps: string[];
  methods: string[];
}

export interface Report {
  run: {
    id: string;
    runbook: string;
    mode: Plan['mode'];
    state: RunStatus['state'];
    plan_hash: string;
    source: string;
    started_at: string;
    ended_at?: string;
    error?: string;
  };
  /** Where RTO is measured from: the alert's startsAt when an alert started the run, else the run's start. */
  origin: { kind: 'alert' | 'run_start'; at: string; alert?: string };
  rto: { objective_ms?: number; to_switch_ms?: number; switched_at?: string; to_end_ms?: number; met?: boolean; note?: string };
  rpo: { objective_ms?: number; worst_ms?: number; points: RestorePointEntry[]; services: ServiceRpo[]; met?: boolean; note?: string };
  timeline: TimelineEntry[];
  /** Which site did what; absent when the runbook names no sites and everything ran on one. */
  sites?: SiteEntry[];
  approvals: ApprovalEntry[];
  changes: ChangeEntry[];
  /** Who was told of what (spec.notify); absent when the runbook notifies no one. */
  notifications?: NotificationRecord[];
}

const ms = (from?: string, to?: string): number | undefined => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined);

function origin(status: RunStatus, trigger: RunInput['trigger']): Report['origin'] {
  if (trigger?.kind === 'alert' && trigger.alert.starts_at && !Number.isNaN(Date.parse(trigger.alert.starts_at))) {
    return { kind: 'alert', at: trigger.alert.starts_at, alert: trigger.alert.labels.alertname ?? trigger.alert.fingerprint };
  }
  return { kind: 'run_start', at: status.started_at };
}

function timeline(plan: Plan, status: RunStatus): TimelineEntry[] {
  const planned = new Map([...plan.steps, ...plan.on_failure, ...plan.finally].map((s) => [s.id, s]));
  return status.steps.filter((s) => s.status !== 'pending' || status.state === 'running').map((s) => entry(s, planned.get(s.id)));
}

function entry(s: StepState, step: PlanStep | undefined): TimelineEntry {
  const site = stepSite(s, step);
  return {
    id: s.id,
    ...(step?.name ? { name: step.name } : {}),
    uses: s.uses,
    phase: s.phase,
    execution: s.execution,
    status: s.status,
    attempt: s.attempt,
    ...(s.started_at ? { started_at: s.started_at } : {}),
    ...(s.ended_at ? { ended_at: s.ended_at } : {}),
    ...(ms(s.started_at, s.ended_at) !== undefined ? { duration_ms: ms(s.started_at, s.ended_at) } : {}),
    ...(s.worker ? { worker: s.worker } : {}),
    ...(site ? { site } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
  };
}

function approvals(status: RunStatus): ApprovalEntry[] {
  return status.steps
    .filter((s) => s.uses === 'approval' && (s.outputs || s.status === 'failed'))
    .map((s) => {
      const o = s.outputs ?? {};
      // A rejection fails the step; its reason says who rejected it and why.
      const rejected = /^rejected by ([^:]+)(?:: (.*))?$/.exec(s.reason ?? '');
      return {
        step: s.id,
        decision: String(o.decision ?? (rejected ? 'rejected' : s.status)),
        by: String(o.by ?? rejected?.[1] ?? ''),
        reason: String(o.reason ?? rejected?.[2] ?? s.reason ?? ''),
        ...(s.ended_at ? { at: s.ended_at } : {}),
        timed_out: o.timed_out === true,
        ...(o.timed_out === true && o.decision === 'approved' ? { auto_approved: true } : {}),
        ...(s.votes?.length ? { votes: s.votes } : {}),
      };
    });
}

function changes(plan: Plan, status: RunStatus): ChangeEntry[] {
  const production = new Map<string, PlanStep>(
    [...plan.steps, ...plan.on_failure, ...plan.finally].filter((s) => s.impact === 'production').map((s) => [s.id, s]),
  );
  return status.steps
    .filter((s) => production.has(s.id) && s.status !== 'pending')
    .map((s) => {
      const o = s.outputs ?? {};
      const from = status.report?.changes?.find((c) => c.step === s.id)?.before_from;
      return {
        step: s.id,
        uses: s.uses,
        status: s.status,
        simulated: s.execution === 'simulate' || o.simulated === true,
        ...(typeof o.changed === 'boolean' ? { changed: o.changed } : {}),
        ...('previous' in o ? { previous: o.previous } : {}),
        ...('current' in o ? { current: o.current } : {}),
        ...(from ? { before_from: from } : {}),
        ...(Array.isArray(o.preflight) ? { preflight: o.preflight.map(String) } : {}),
        ...(s.ended_at ? { at: s.ended_at } : {}),
        ...(s.reason ? { reason: s.reason } : {}),
      };
    });
}

const judge = (objective: number | undefined, measured: number | undefined) =>
  objective !== undefined && measured !== undefined ? { met: measured <= objective } : {};

function rto(plan: Plan, status: RunStatus, from: Report['origin']): Report['rto'] {
  const switches = changes(plan, status).filter((c) => c.status === 'succeeded' && c.at);
  const switchedAt = switches
    .map((c) => c.at!)
    .sort()
    .at(-1);
  const toSwitch = ms(from.at, switchedAt);
  const toEnd = status.state === 'running' ? undefined : ms(from.at, status.ended_at);
  const note = !switches.length
    ? 'no production switch succeeded'
    : status.mode === 'drill'
      ? 'a drill: "switched" is when the last preflight proved its switch possible'
      : undefined;
  return {
    ...(plan.objectives.rto_ms !== undefined ? { objective_ms: plan.objectives.rto_ms } : {}),
    ...(toSwitch !== undefined ? { to_switch_ms: toSwitch, switched_at: switchedAt } : {}),
    ...(toEnd !== undefined ? { to_end_ms: toEnd } : {}),
    // Traffic back is what the objective is about; without a switch, the whole run is the measure.
    ...judge(plan.objectives.rto_ms, toSwitch ?? (status.state === 'succeeded' ? toEnd : undefined)),
    ...(note ? { note } : {}),
  };
}

/** What a succeeded step measured of recovery points: a restore point's age, or a replica's lag. */
function pointEntry(step: RunStatus['steps'][number]): RestorePointEntry | undefined {
  const o = step.outputs ?? {};
  const service = typeof o.service === 'string' ? { service: o.service } : {};
  const id = o.restore_point ?? o.restore_point_id;
  const point = typeof id === 'string' ? { restore_point: id } : {};
  // A step that measures its own RPO (a PITR restore's target − last replayed commit, a promotion's lag) is
  // believed over its base backup's age, which says nothing of what a restore to a time loses; null: it could not tell.
  if ('rpo_ms' in o) {
    if (typeof o.rpo_ms !== 'number') return undefined;
    const method = typeof o.rpo_method === 'string' ? o.rpo_method : 'measured by the step';
    return { step: step.id, ...service, ...point, age_ms: o.rpo_ms, source: 'measured', method };
  }
  if (typeof o.restore_point_age_ms === 'number')
    return { step: step.id, ...service, ...point, age_ms: o.restore_point_age_ms, source: 'restore_point', method: 'point age' };
  // objects.check/replicate: the oldest change the replica lacks is how much a failover to it loses.
  if (typeof o.lag_ms === 'number' && 'oldest_unreplicated' in o)
    return { step: step.id, ...service, age_ms: o.lag_ms, source: 'replica', method: 'replica lag' };
  return undefined;
}

function byService(points: RestorePointEntry[]): ServiceRpo[] {
  const services = new Map<string, ServiceRpo>();
  for (const p of points) {
    const name = p.service ?? (p.source === 'replica' ? `replica (${p.step})` : undefined);
    if (!name) continue;
    const entry = services.get(name) ?? { service: name, age_ms: 0, steps: [], methods: [] };
    const methods = entry.methods.includes(p.method) ? entry.methods : [...entry.methods, p.method];
    services.set(name, { service: name, age_ms: Math.max(entry.age_ms, p.age_ms), steps: [...entry.steps, p.step], methods });
  }
  return [...services.values()].sort((a, b) => a.service.localeCompare(b.service));
}

function rpo(plan: Plan, status: RunStatus): Report['rpo'] {
  const points = status.steps.filter((s) => s.status === 'succeeded').flatMap((s) => pointEntry(s) ?? []);
  const worst = points.length ? Math.max(...points.map((p) => p.age_ms)) : undefined;
  return {
    ...(plan.objectives.rpo_ms !== undefined ? { objective_ms: plan.objectives.rpo_ms } : {}),
    ...(worst !== undefined ? { worst_ms: worst } : {}),
    points,
    services: byService(points),
    ...judge(plan.objectives.rpo_ms, worst),
    ...(points.length ? {} : { note: 'no step used a restore point or measured an RPO' }),
  };
}

/**
 * Builds the report of a run from its plan, its status and how it started. Pure: no clock, no I/O.
 * Child runbooks' steps count as the run's (`<child step>.<step>`): a switch made in a child is the run's switch.
 */
export function buildReport(input: {
  workflowId: string;
  plan: Plan;
  status: RunStatus;
  trigger?: RunInput['trigger'];
  children?: RunTree['children'];
}): Report {
  const { workflowId } = input;
  const { plan, status } = flatRun(input);
  const from = origin(status, input.trigger);
  const steps = timeline(plan, status);
  const sites = sitesOf(plan, steps);
  return {
    run: {
      id: workflowId,
      runbook: plan.name,
      mode: plan.mode,
      state: status.state,
      plan_hash: plan.hash,
      source: plan.source,
      started_at: status.started_at,
      ...(status.ended_at ? { ended_at: status.ended_at } : {}),
      ...(status.error ? { error: status.error } : {}),
    },
    origin: from,
    rto: rto(plan, status, from),
    rpo: rpo(plan, status),
    timeline: steps,
    ...(sites ? { sites } : {}),
    approvals: approvals(status),
    changes: changes(plan, status),
    ...(status.notifications?.length ? { notifications: status.notifications } : {}),
  };
}
