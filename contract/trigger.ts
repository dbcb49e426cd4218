// How a run started (`trigger.*` in expressions) and the compiled alert and schedule triggers of a plan.
import type { Mode } from './plan.ts';

/**
 * The alert routes of `rebound serve`, by name: `trigger.alert.source` and the `route` label
 * of its metrics and logs. serve/routes.ts has one route for each (a new name here fails to
 * compile until it has its path, parser and auth there).
 */
export type AlertSource = 'alertmanager' | 'generic' | 'pagerduty' | 'grafana';

/** What an alert told `rebound serve`; a run started by it reads this as `trigger.alert`. */
export interface AlertInfo<S extends AlertSource = AlertSource> {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339, as the sender wrote it ('' when it gave none). */
  starts_at: string;
  fingerprint: string;
  /** Which route received it. */
  source: S;
}

/** A run's `trigger`: exactly one of alert, schedule or manual is present, named by `kind`. */
export type Trigger =
  { kind: 'alert'; alert: AlertInfo } | { kind: 'schedule'; schedule: { id: string; scheduled_at?: string } } | { kind: 'manual'; manual: { by?: string } };

/** The fields each part of `trigger` has; the compiler refuses any other (`trigger.alert.lables`). */
export const TRIGGER_FIELDS: Record<string, readonly string[]> = {
  kind: [],
  alert: ['status', 'labels', 'annotations', 'starts_at', 'fingerprint', 'source'],
  schedule: ['id', 'scheduled_at'],
  manual: ['by'],
};

export type ScheduleOverlap = 'skip' | 'buffer_one' | 'allow_all' | 'cancel_other';

export type TriggerParams = Record<string, string | number | boolean>;

export interface AlertTriggerPlan {
  /** label → exact value, or `/regex/` (anchored, as Alertmanager's matchers are). */
  match: Record<string, string>;
  /** Parameter values; strings may hold `${{ trigger.… }}` templates, evaluated per alert. */
  params: TriggerParams;
  /** A template; alerts with the same key share one run. Absent: one run of the runbook at a time. */
  dedup_key?: string;
  /** After a run for a key ends, alerts for that key are suppressed this long. */
  cooldown_ms: number;
  mode: Mode;
}

export interface ScheduleTriggerPlan {
  cron?: string;
  every_ms?: number;
  timezone?: string;
  params: TriggerParams;
  mode: Mode;
  overlap: ScheduleOverlap;
  catchup_window_ms: number;
  jitter_ms?: number;
  pause_on_failure: boolean;
}
