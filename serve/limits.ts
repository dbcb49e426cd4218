// Caps on what one alert request may carry and start, checked before any matching: the worst case of a request stays small.
import type { AlertInfo } from '../contract/trigger.ts';

export interface Limits {
  /** Alerts in one request (Alertmanager's webhook `max_alerts` should not exceed it). */
  alertsPerRequest: number;
  /** Distinct runs (runbook and dedup key) one request may start or attach to. */
  runsPerRequest: number;
  /** Bytes (UTF-8) of one label or annotation value: bounds the text every matcher and template sees. */
  valueBytes: number;
  /** Labels of one alert, and annotations of one alert. */
  labelsPerAlert: number;
}

export const DEFAULT_LIMITS: Limits = { alertsPerRequest: 100, runsPerRequest: 10, valueBytes: 8192, labelsPerAlert: 64 };

/** A request over a cap: 413 for its size, 429 for the runs it would start; nothing of it was done. */
export class LimitError extends Error {
  readonly code = 'limit';
  constructor(
    readonly status: 413 | 429,
    readonly reason: 'too_large' | 'too_many_alerts' | 'too_many_runs',
    message: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

function checkSet(set: Record<string, string>, alert: string, kind: 'labels' | 'annotations', limits: Limits): void {
  const names = Object.keys(set);
  if (names.length > limits.labelsPerAlert)
    throw new LimitError(413, 'too_large', `${alert} has ${names.length} ${kind}; the limit is ${limits.labelsPerAlert}`);
  for (const name of names) {
    const nameBytes = Buffer.byteLength(name, 'utf8');
    if (nameBytes > limits.valueBytes)
      throw new LimitError(413, 'too_large', `${alert} has a name in ${kind} of ${nameBytes} bytes; the limit is ${limits.valueBytes}`);
    const bytes = Buffer.byteLength(set[name]!, 'utf8');
    if (bytes > limits.valueBytes) throw new LimitError(413, 'too_large', `${alert}.${kind}.${name} is ${bytes} bytes; the limit is ${limits.valueBytes}`);
  }
}

/** Refuses the whole request when it has too many alerts or one holds an oversized set or value. */
export function checkLimits(alerts: AlertInfo[], limits: Limits): void {
  if (alerts.length > limits.alertsPerRequest) {
    throw new LimitError(413, 'too_many_alerts', `${alerts.length} alerts in one request; the limit is ${limits.alertsPerRequest}`);
  }
  alerts.forEach((alert, i) => {
    checkSet(alert.labels, `alerts[${i}]`, 'labels', limits);
    checkSet(alert.annotations, `alerts[${i}]`, 'annotations', limits);
  });
}

/** Refuses (429) a request that would start more distinct runs than the cap, before any is started. */
export function checkRuns(runs: number, limits: Limits): void {
  if (runs > limits.runsPerRequest) {
    throw new LimitError(429, 'too_many_runs', `this request would start ${runs} runs; the limit is ${limits.runsPerRequest} per request`);
  }
}
