// Runs as Temporal's visibility lists them for posture: each runbook's last run and last drill (with the RTO/RPO its report measured), and the replica lag its replication steps reported.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Objective, RunStatus } from '../contract/run.ts';
import type { ServiceStep } from './posture-plans.ts';
import { fetchStatus, MODE_KEY, RUNBOOK_KEY } from './runs.ts';

/** A run as visibility lists it; `state` in Rebound's words, plus what only Temporal can end a run with. */
export interface RunSummary {
  workflow_id: string;
  run_id: string;
  mode: string;
  state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued';
  started_at: string;
  ended_at?: string;
}

/** The last drill, with what its report measured against the objectives. */
export interface DrillSummary extends RunSummary {
  rto?: Objective;
  rpo?: Objective;
}

export interface ReplicaLag {
  /** The lag in ms; null when the step could not measure it. */
  lag_ms: number | null;
  at?: string;
  runbook: string;
  step: string;
  workflow_id: string;
}

const STATES: Record<string, RunSummary['state']> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'continued',
};

/** A visibility query's string literal: Temporal's list filter reads backslash escapes inside double quotes. */
export function queryString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function summaryOf(info: WorkflowExecutionInfo): RunSummary {
  return {
    workflow_id: info.workflowId,
    run_id: info.runId,
    mode: String(info.typedSearchAttributes.get(MODE_KEY) ?? ''),
    state: STATES[info.status.name] ?? 'failed',
    started_at: info.startTime.toISOString(),
    ...(info.closeTime ? { ended_at: info.closeTime.toISOString() } : {}),
  };
}

/** The runs of a runbook (one mode, or all), newest start first; at most `limit` read. */
export async function listRuns(client: Client, runbook: string, options: { mode?: string; limit?: number } = {}): Promise<RunSummary[]> {
  const limit = options.limit ?? 20;
  const query = `${RUNBOOK_KEY.name} = ${queryString(runbook)}${options.mode ? ` AND ${MODE_KEY.name} = ${queryString(options.mode)}` : ''}`;
  const found: RunSummary[] = [];
  for await (const info of client.workflow.list({ query, pageSize: limit })) {
    found.push(summaryOf(info));
    if (found.length >= limit) break;
  }
  return found.sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
}

/** At most `width` promises at a time over `items`, results in order. */
export async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/** One drill as a trend chart's point: when it started and what it measured. */
export interface TrendPoint {
  at: string;
  rto_ms?: number;
  rpo_ms?: number;
}

/** Drills read per runbook for its trend and its last drill. */
export const TREND_DRILLS = 10;

/** A runbook's recent drills, newest first, each with its report's RTO and RPO (a running drill has none yet). */
async function recentDrills(client: Client, runbook: string): Promise<DrillSummary[]> {
  const drills = await listRuns(client, runbook, { mode: 'drill', limit: TREND_DRILLS });
  return mapLimited(drills, 4, async (drill) => {
    if (drill.state === 'running') return drill;
    const status = await fetchStatus(client, drill.workflow_id, drill.run_id).catch(() => undefined);
    return { ...drill, ...(status?.report ? { rto: status.report.rto, rpo: status.report.rpo } : {}) };
  });
}

/** The trend of drills (oldest first): only those that measured something. */
export function trendOf(drills: DrillSummary[]): TrendPoint[] {
  return drills
    .filter((d) => d.rto?.measured_ms !== undefined || d.rpo?.measured_ms !== undefined)
    .map((d) => ({
      at: d.started_at,
      ...(d.rto?.measured_ms !== undefined ? { rto_ms: d.rto.measured_ms } : {}),
      ...(d.rpo?.measured_ms !== undefined ? { rpo_ms: d.rpo.measured_ms } : {}),
    }))
    .reverse();
}

export interface RunbookRuns {
  last_run?: RunSummary;
  last_drill?: DrillSummary;
  trend: TrendPoint[];
}

/** Each runbook's last run (any mode), last drill and drill trend; a visibility error leaves that runbook without them. */
export async function latestRuns(client: Client, runbooks: string[]): Promise<Map<string, RunbookRuns>> {
  const rows = await mapLimited([...new Set(runbooks)], 8, async (runbook) => {
    const [runs, drills] = await Promise.all([listRuns(client, runbook, { limit: 5 }).catch(() => []), recentDrills(client, runbook).catch(() => [])]);
    const row: RunbookRuns = { ...(runs[0] ? { last_run: runs[0] } : {}), ...(drills[0] ? { last_drill: drills[0] } : {}), trend: trendOf(drills) };
    return [runbook, row] as const;
  });
  return new Map(rows);
}

/** The lag a replication step of this status reported, in ms (rpo_ms, else lag_seconds). */
function lagOf(outputs: Record<string, unknown> | undefined): number | null | undefined {
  if (!outputs) return undefined;
  if (typeof outputs.rpo_ms === 'number') return outputs.rpo_ms;
  if (typeof outputs.lag_seconds === 'number') return outputs.lag_seconds * 1000;
  return 'lag_seconds' in outputs ? null : undefined;
}

/** Per service, the replica lag the last run of a runbook with replication steps reported (the newest such report wins). */
export async function replicaLags(client: Client, steps: ServiceStep[], runs: Map<string, { last_run?: RunSummary }>): Promise<Map<string, ReplicaLag>> {
  const replication = steps.filter((s) => s.role === 'replication');
  const runbooks = [...new Set(replication.map((s) => s.runbook))].filter((r) => runs.get(r)?.last_run);
  const statuses = await mapLimited(runbooks, 8, async (r) => {
    const run = runs.get(r)!.last_run!;
    return [r, run, await fetchStatus(client, run.workflow_id, run.run_id).catch(() => undefined)] as [string, RunSummary, RunStatus | undefined];
  });
  const lags = new Map<string, ReplicaLag>();
  for (const [runbook, run, status] of statuses) {
    for (const s of replication.filter((x) => x.runbook === runbook)) {
      const state = status?.steps.find((x) => x.id === s.step && x.status === 'succeeded');
      const lag = lagOf(state?.outputs);
      if (lag === undefined) continue;
      const at = state?.ended_at;
      const seen = lags.get(s.service);
      if (seen?.at && at && seen.at > at) continue;
      lags.set(s.service, { lag_ms: lag, ...(at ? { at } : {}), runbook, step: s.step, workflow_id: run.workflow_id });
    }
  }
  return lags;
}
