// Decides what each received alert does: start a run, attach to the running one, stay suppressed, or nothing.
import type { Client } from '@temporalio/client';
import { startDeduplicated } from '../client/dedup.ts';
import type { AlertInfo } from '../contract/trigger.ts';
import type { Log } from './log.ts';
import { checkRuns, type Limits } from './limits.ts';
import { alertStart, AlertInputError, matches, type AlertStart } from './match.ts';
import type { ServeMetrics } from './metrics.ts';
import type { AlertRunbook } from './runbooks.ts';

export interface Decision {
  runbook?: string;
  decision: 'started' | 'deduplicated' | 'suppressed' | 'resolved' | 'unmatched' | 'invalid' | 'error';
  fingerprint: string;
  run?: string;
  until?: string;
  error?: string;
}

export interface DecideContext {
  client: Client;
  taskQueue: string;
  runbooks: () => AlertRunbook[];
  log: Log;
  metrics: ServeMetrics;
}

/** One matched runbook of one alert, with what it would start (absent: resolved, or the alert cannot fill it). */
type Planned = { runbook?: AlertRunbook; alert: AlertInfo; base: Decision; start?: AlertStart };

function planOne(runbook: AlertRunbook, alert: AlertInfo): Planned {
  const base: Decision = { runbook: runbook.plan.name, fingerprint: alert.fingerprint, decision: 'resolved' };
  if (alert.status === 'resolved') return { runbook, alert, base };
  try {
    return { runbook, alert, base, start: alertStart(runbook.plan, runbook.trigger, alert) };
  } catch (error) {
    if (error instanceof AlertInputError) return { runbook, alert, base: { ...base, decision: 'invalid', error: error.message } };
    throw error;
  }
}

function planAll(ctx: DecideContext, alerts: AlertInfo[]): Planned[] {
  return alerts.flatMap((alert): Planned[] => {
    const matched = ctx.runbooks().filter((r) => matches(r.matchers, alert));
    if (!matched.length) return [{ alert, base: { decision: 'unmatched', fingerprint: alert.fingerprint } }];
    return matched.map((runbook) => planOne(runbook, alert));
  });
}

// gRPC codes that say the request itself is wrong: sending it again cannot help.
const PERMANENT_CODES = new Set([3 /* INVALID_ARGUMENT */, 6 /* ALREADY_EXISTS */, 11 /* OUT_OF_RANGE */, 12 /* UNIMPLEMENTED */]);

/** A failure whose gRPC code (on it or a cause) is permanent; anything else (unreachable, timeouts, overload) may pass on retry. */
function isPermanent(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number') return PERMANENT_CODES.has(e.code);
  }
  return false;
}

async function startOne(ctx: DecideContext, planned: Planned): Promise<Decision> {
  const { runbook, start, base } = planned;
  if (!start || !runbook) return base;
  try {
    const made = await startDeduplicated(ctx.client, { ...start, plan: runbook.plan, taskQueue: ctx.taskQueue, cooldownMs: runbook.trigger.cooldown_ms });
    return { ...base, decision: made.decision, run: made.run, ...('until' in made ? { until: made.until } : {}) };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    // Refused for good: 4xx with the reason. Otherwise 5xx: the sender's retry attaches to the runs that did start.
    if (isPermanent(error)) return { ...base, decision: 'invalid', error: `Temporal refused the start: ${reason}` };
    return { ...base, decision: 'error', error: `could not start the run: ${reason}` };
  }
}

/**
 * Every matching runbook of every alert. What each would start is worked out first, so a
 * request over the runs cap starts nothing (429); then the starts run in parallel. One log
 * line and one metric per decision.
 */
export async function decide(ctx: DecideContext, route: string, alerts: AlertInfo[], limits: Limits): Promise<Decision[]> {
  const planned = planAll(ctx, alerts);
  checkRuns(new Set(planned.filter((p) => p.start).map((p) => JSON.stringify([p.runbook?.plan.name, p.start!.key]))).size, limits);
  const decisions = await Promise.all(planned.map((p) => startOne(ctx, p)));
  decisions.forEach((decision, i) => {
    const { alert, start } = planned[i]!;
    ctx.metrics.decisions.inc({ runbook: decision.runbook ?? '', decision: decision.decision });
    const level = decision.decision === 'error' ? 'error' : decision.decision === 'invalid' ? 'warn' : 'info';
    ctx.log(level, 'alert', { route, ...decision, dedup_key: start?.key, alertname: alert.labels.alertname, status: alert.status });
  });
  return decisions;
}

/**
 * 503 when any start failed for a retryable reason (the retry attaches to the runs that did
 * start); else 400 when any alert can never start (with the reason); 202 when a run started; else 200.
 */
export function statusOf(decisions: Decision[]): number {
  if (decisions.some((d) => d.decision === 'error')) return 503;
  if (decisions.some((d) => d.decision === 'invalid')) return 400;
  if (decisions.some((d) => d.decision === 'started')) return 202;
  return 200;
}

/** The body: every decision, and for a single one the short form (`run`, `deduplicated`, `suppressed`). */
export function bodyOf(decisions: Decision[]): Record<string, unknown> {
  const body: Record<string, unknown> = { decisions };
  if (decisions.length !== 1) return body;
  const [only] = decisions;
  if (only!.decision === 'started') body.run = only!.run;
  if (only!.decision === 'deduplicated') Object.assign(body, { run: only!.run, deduplicated: true });
  if (only!.decision === 'suppressed') Object.assign(body, { suppressed: only!.run, until: only!.until });
  if (only!.error) body.error = only!.error;
  return body;
}
