// The DR posture the console's landing page shows: per service its newest restore point, age against the RPO, PITR window, replica lag, next backup and last verification; per runbook its last run and drill.
import type { Client } from '@temporalio/client';
import type { Plan } from '../contract/plan.ts';
import { describeWhen } from './schedules.ts';
import { nextFire, serviceSteps, type ServiceStep } from './posture-plans.ts';
import { latestRuns, mapLimited, replicaLags, type DrillSummary, type ReplicaLag, type RunbookRuns, type RunSummary, type TrendPoint } from './posture-runs.ts';

export type { DrillSummary, ReplicaLag, RunSummary, TrendPoint } from './posture-runs.ts';

/**
 * The restore-point fields posture reads: a structural slice of activities/restore-points'
 * RestorePoint (client/ may not import activities/), so a RestorePoint is one.
 */
export interface PointRecord {
  id: string;
  service: string;
  kind: string;
  status: 'unverified' | 'verified' | 'failed';
  completed_at: string;
  verified_at?: string;
  size: number;
  set_id: string;
  object: string;
  labels: Record<string, string>;
  consistency?: Record<string, unknown>;
}

/** What posture asks of the restore-point catalog: openRestorePoints(storage) (activities/restore-points/index.ts) is one. */
export interface RestorePoints {
  readonly url: string;
  list(query: { service?: string; status?: PointRecord['status'][]; limit?: number }): Promise<PointRecord[]>;
}

/** green: age ≤ 0.8 × RPO; amber: ≤ RPO; red: older, none, or the newest failed verification; grey: no RPO to judge by. */
export type Colour = 'green' | 'amber' | 'red' | 'grey';

export interface ServicePosture {
  service: string;
  /** The runbooks whose backup (or replication) steps name it. */
  runbooks: string[];
  /** The tightest RPO objective among those runbooks. */
  rpo_ms?: number;
  /** Labels its backup steps give its points. */
  labels: Record<string, string>;
  /** Its newest point, whatever its state. */
  newest?: PointRecord;
  /** The age of its newest point that did not fail verification: what a restore now would lose. */
  age_ms?: number;
  colour: Colour;
  /** Why it is not green. */
  problem?: string;
  /** The window its newest point-in-time (pgbackrest) point recorded. */
  pitr?: { from: string; to: string };
  replica_lag?: ReplicaLag;
  /** When a schedule (mode run) of a runbook backing it up fires next. */
  next_backup?: string;
  last_verification?: { at: string; status: 'verified' | 'failed'; point: string };
}

export interface RunbookPosture {
  runbook: string;
  file: string;
  objectives: Plan['objectives'];
  services: string[];
  schedule?: { description: string; mode: Plan['mode']; next_at?: string };
  last_run?: RunSummary;
  last_drill?: DrillSummary;
  /** Measured RTO and RPO of its recent drills (TREND_DRILLS at most), oldest first: the trend chart's points. */
  trend: TrendPoint[];
  colour: Colour;
  problem?: string;
}

export interface Posture {
  generated_at: string;
  /** The catalog's store, without credentials; absent when no catalog was given. */
  catalog?: string;
  services: ServicePosture[];
  runbooks: RunbookPosture[];
}

/** A service's newest points read: its newest, its newest usable one and its PITR window are among them. */
export const POSTURE_POINTS_PER_SERVICE = 5;

/**
 * A service's newest points, and its newest point with a verdict when none of those has one:
 * two indexed queries at most per service, not the whole catalog.
 */
async function servicePoints(points: RestorePoints, service: string): Promise<PointRecord[]> {
  const newest = await points.list({ service, limit: POSTURE_POINTS_PER_SERVICE });
  if (newest.length < POSTURE_POINTS_PER_SERVICE || newest.some((p) => p.status !== 'unverified')) return newest;
  return [...newest, ...(await points.list({ service, status: ['verified', 'failed'], limit: 1 }))];
}

const RANK: Record<Colour, number> = { red: 0, amber: 1, grey: 2, green: 3 };

/** Failing or stale first, then by name. */
export function byColour<T extends { colour: Colour }>(name: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => RANK[a.colour] - RANK[b.colour] || name(a).localeCompare(name(b));
}

/** A service's colour from its age against its RPO (the newest point failing counts first). */
export function judgeAge(newest: PointRecord | undefined, ageMs: number | undefined, rpoMs: number | undefined): { colour: Colour; problem?: string } {
  if (!newest) return { colour: 'red', problem: 'no restore point' };
  if (newest.status === 'failed') return { colour: 'red', problem: `newest point ${newest.id} failed verification` };
  if (ageMs === undefined) return { colour: 'red', problem: 'no usable restore point' };
  if (rpoMs === undefined) return { colour: 'grey', problem: 'no RPO objective' };
  if (ageMs > rpoMs) return { colour: 'red', problem: 'older than the RPO' };
  if (ageMs > 0.8 * rpoMs) return { colour: 'amber', problem: 'past 80% of the RPO' };
  return { colour: 'green' };
}

function pitrWindow(points: PointRecord[]): { from: string; to: string } | undefined {
  const w = points.find((p) => p.consistency?.method === 'pitr' && p.status !== 'failed')?.consistency?.window as { from?: unknown; to?: unknown } | undefined;
  return typeof w?.from === 'string' && typeof w.to === 'string' ? { from: w.from, to: w.to } : undefined;
}

function lastVerification(points: PointRecord[]): ServicePosture['last_verification'] {
  const checked = points.filter((p) => p.verified_at && p.status !== 'unverified');
  const newest = checked.reduce<PointRecord | undefined>((a, p) => (!a || Date.parse(p.verified_at!) > Date.parse(a.verified_at!) ? p : a), undefined);
  return newest ? { at: newest.verified_at!, status: newest.status as 'verified' | 'failed', point: newest.id } : undefined;
}

function earliest(times: (string | undefined)[]): string | undefined {
  return times.filter((t): t is string => !!t).sort()[0];
}

/** One service's row: `points` its points, newest first. */
export function servicePosture(service: string, steps: ServiceStep[], points: PointRecord[], next: Map<string, string>, now: number): ServicePosture {
  const rpos = steps.map((s) => s.rpo_ms).filter((r): r is number => r !== undefined);
  const rpo = rpos.length ? Math.min(...rpos) : undefined;
  const newest = points[0];
  const usable = points.find((p) => p.status !== 'failed');
  const age = usable ? now - Date.parse(usable.completed_at) : undefined;
  const runbooks = [...new Set(steps.map((s) => s.runbook))].sort();
  const pitr = pitrWindow(points);
  const verification = lastVerification(points);
  const nextBackup = earliest(steps.filter((s) => s.role === 'backup').map((s) => next.get(s.runbook)));
  return {
    service,
    runbooks,
    ...(rpo !== undefined ? { rpo_ms: rpo } : {}),
    labels: Object.assign({}, ...steps.map((s) => s.labels)) as Record<string, string>,
    ...(newest ? { newest } : {}),
    ...(age !== undefined ? { age_ms: age } : {}),
    ...judgeAge(newest, age, rpo),
    ...(pitr ? { pitr } : {}),
    ...(nextBackup ? { next_backup: nextBackup } : {}),
    ...(verification ? { last_verification: verification } : {}),
  };
}

/** A runbook's colour: red when its last run or drill failed or the drill missed an objective, amber when it was never drilled. */
export function judgeRunbook(lastRun?: RunSummary, lastDrill?: DrillSummary): { colour: Colour; problem?: string } {
  if (lastDrill && lastDrill.state !== 'succeeded' && lastDrill.state !== 'running') return { colour: 'red', problem: `last drill ${lastDrill.state}` };
  if (lastDrill?.rto?.met === false) return { colour: 'red', problem: 'last drill missed the RTO' };
  if (lastDrill?.rpo?.met === false) return { colour: 'red', problem: 'last drill missed the RPO' };
  if (lastRun && (lastRun.state === 'failed' || lastRun.state === 'terminated' || lastRun.state === 'timed_out'))
    return { colour: 'red', problem: `last run ${lastRun.state}` };
  if (!lastDrill) return { colour: 'amber', problem: 'never drilled' };
  return { colour: 'green' };
}

function groupByService(points: PointRecord[]): Map<string, PointRecord[]> {
  const by = new Map<string, PointRecord[]>();
  for (const p of points) {
    const list = by.get(p.service);
    if (list) list.push(p);
    else by.set(p.service, [p]);
  }
  for (const list of by.values()) list.sort((a, b) => Date.parse(b.completed_at) - Date.parse(a.completed_at));
  return by;
}

/**
 * The posture of every service the runbooks back up (or read the replication of) and of every
 * runbook. A service only the catalog knows has no objective to judge it by: the
 * restore-points page lists it.
 */
export async function loadPosture(input: { client: Client; runbooks: { file: string; plan: Plan }[]; points?: RestorePoints; now?: number }): Promise<Posture> {
  const now = input.now ?? Date.now();
  const steps = input.runbooks.flatMap((r) => serviceSteps(r.plan));
  const next = new Map<string, string>();
  for (const { plan } of input.runbooks) {
    const at = plan.triggers.schedule && plan.triggers.schedule.mode === 'run' ? nextFire(plan.triggers.schedule, now) : undefined;
    if (at) next.set(plan.name, at);
  }
  const names = [...new Set(steps.map((s) => s.service))];
  const catalog = input.points;
  const [points, runs] = await Promise.all([
    catalog ? mapLimited(names, 16, (name) => servicePoints(catalog, name)).then((lists) => lists.flat()) : Promise.resolve([]),
    latestRuns(
      input.client,
      input.runbooks.map((r) => r.plan.name),
    ),
  ]);
  const lags = await replicaLags(input.client, steps, runs);
  const byService = groupByService(points);
  const services = names.map((name) => {
    const row = servicePosture(
      name,
      steps.filter((s) => s.service === name),
      byService.get(name) ?? [],
      next,
      now,
    );
    const lag = lags.get(name);
    return lag ? { ...row, replica_lag: lag } : row;
  });
  const runbooks = input.runbooks.map(({ file, plan }) => runbookPosture(file, plan, steps, runs.get(plan.name) ?? { trend: [] }, now));
  return {
    generated_at: new Date(now).toISOString(),
    ...(input.points ? { catalog: input.points.url } : {}),
    services: services.sort(byColour((s) => s.service)),
    runbooks: runbooks.sort(byColour((r) => r.runbook)),
  };
}

function runbookPosture(file: string, plan: Plan, steps: ServiceStep[], runs: RunbookRuns, now: number): RunbookPosture {
  const schedule = plan.triggers.schedule;
  const nextAt = schedule ? nextFire(schedule, now) : undefined;
  return {
    runbook: plan.name,
    file,
    objectives: plan.objectives,
    services: [...new Set(steps.filter((s) => s.runbook === plan.name).map((s) => s.service))].sort(),
    ...(schedule ? { schedule: { description: describeWhen(schedule), mode: schedule.mode, ...(nextAt ? { next_at: nextAt } : {}) } } : {}),
    ...(runs.last_run ? { last_run: runs.last_run } : {}),
    ...(runs.last_drill ? { last_drill: runs.last_drill } : {}),
    trend: runs.trend,
    ...judgeRunbook(runs.last_run, runs.last_drill),
  };
}
