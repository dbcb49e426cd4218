// Decides what each received alert does: start a run, attach to the running one, stay suppressed, or nothing.
import type { Client } from '@temporalio/client';
import { startDeduplicated } from '../client/dedup.ts';
import type { AlertInfo } from '../contract/trigger.ts';
import type { Log } from './log.ts';
import { alertStart, AlertInputError, matches } from './match.ts';
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

async function decideOne(ctx: DecideContext, runbook: AlertRunbook, alert: AlertInfo): Promise<Decision & { key?: string }> {
  const base = { runbook: runbook.plan.name, fingerprint: alert.fingerprint };
  if (alert.status === 'resolved') return { ...base, decision: 'resolved' };
  let start;
  try {
    start = alertStart(runbook.plan, runbook.trigger, alert);
  } catch (error) {
    if (error instanceof AlertInputError) return { ...base, decision: 'invalid', error: error.message };
    throw error;
  }
  try {
    const made = await startDeduplicated(ctx.client, { ...start, plan: runbook.plan, taskQueue: ctx.taskQueue, cooldownMs: runbook.trigger.cooldown_ms });
    return { ...base, key: start.key, decision: made.decision, run: made.run, ...('until' in made ? { until: made.until } : {}) };
  } catch (error) {
    // Temporal unreachable or refusing: the sender should retry (Alertmanager does on 5xx).
    return { ...base, key: start.key, decision: 'error', error: `could not start the run: ${(error as Error).message.split('\n')[0]}` };
  }
}

type Made = { decision: Decision; key?: string; alert: AlertInfo };

async function decideAlert(ctx: DecideContext, alert: AlertInfo): Promise<Made[]> {
  const matched = ctx.runbooks().filter((r) => matches(r.matchers, alert));
  if (!matched.length) return [{ decision: { decision: 'unmatched', fingerprint: alert.fingerprint }, alert }];
  return Promise.all(
    matched.map(async (runbook) => {
      const { key, ...decision } = await decideOne(ctx, runbook, alert);
      return { decision, key, alert };
    }),
  );
}

/** Every matching runbook of every alert, in parallel; one log line and one metric per decision. */
export async function decide(ctx: DecideContext, route: string, alerts: AlertInfo[]): Promise<Decision[]> {
  const made = (await Promise.all(alerts.map((alert) => decideAlert(ctx, alert)))).flat();
  for (const { decision, key, alert } of made) {
    ctx.metrics.decisions.inc({ runbook: decision.runbook ?? '', decision: decision.decision });
    const level = decision.decision === 'error' ? 'error' : decision.decision === 'invalid' ? 'warn' : 'info';
    ctx.log(level, 'alert', { route, ...decision, dedup_key: key, alertname: alert.labels.alertname, status: alert.status });
  }
  return made.map((m) => m.decision);
}

/** 202 when a run started; 503 when Temporal could not be asked (retry); 400 when nothing usable came; else 200. */
export function statusOf(decisions: Decision[]): number {
  if (decisions.some((d) => d.decision === 'started')) return 202;
  if (decisions.some((d) => d.decision === 'error')) return 503;
  if (decisions.length && decisions.every((d) => d.decision === 'invalid')) return 400;
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
