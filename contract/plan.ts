// The Plan types: a compiled runbook's steps, parameters, secrets, triggers, sites and child plans, as the interpreter workflow's input.
/**
 * The Plan: a compiled runbook. It is the workflow's input, so each run's history pins the
 * exact runbook it ran. Plain JSON types only: the workflow bundle imports this file.
 */
import type { AlertTriggerPlan, ScheduleTriggerPlan } from './trigger.ts';

export const PLAN_VERSION = 'rebound.plan/v1';

export type Mode = 'run' | 'drill';
export type Phase = 'main' | 'on_failure' | 'finally';

/** What a step does in this plan's mode. */
export type Execution = 'run' | 'simulate' | 'skip';

export interface PlanRetry {
  maximum_attempts: number;
  initial_interval_ms: number;
  backoff: number;
  maximum_interval_ms?: number;
  non_retryable: string[];
}

export interface PlanStep {
  id: string;
  name?: string;
  uses: string;
  kind: 'activity' | 'workflow';
  backend: string;
  impact: 'read' | 'write' | 'production';
  phase: Phase;
  /** `with:` as written (after drill overrides), `${{ }}` templates evaluated at run time. */
  with: Record<string, unknown>;
  /** Explicit `needs:`: a skipped or failed need skips this step. */
  needs: string[];
  /** The implicit order edge (the step above): orders only, never skips. */
  after: string[];
  /** A CEL expression, already rewritten for hyphenated ids. */
  if?: string;
  retry: PlanRetry;
  timeout_ms: number;
  heartbeat_timeout_ms?: number;
  continue_on_error: boolean;
  execution: Execution;
  /** Child runbook plan key, for `uses: runbook`. */
  child?: string;
  /** The site whose workers run this step (task queue `rebound-<site>`); absent: the run's own queue. */
  site?: string;
  /** With a site: how long the step may wait for a worker of that site before it fails. */
  site_timeout_ms?: number;
  /** traffic.shift: the read steps run after each of its steps (`analysis:`); absent on every other step, so older plans keep their hash. */
  analysis?: PlanStep[];
  /** `for_each:`: the step (or its group of steps) runs once per item; absent on other steps, so their plans keep their hash. */
  for_each?: PlanLoop;
  line: number;
  col: number;
}

/** A step's for_each (contract/for-each.ts has its limits and iteration ids). */
export interface PlanLoop {
  /** A literal list (its items may hold templates), or one `${{ }}` template that gives a list; evaluated when the step starts. */
  items: unknown[] | string;
  /** How many iterations run at once; 1 runs them in order. */
  parallel: number;
  /** A group's steps, run once per item, with bare ids and needs (an iteration's are `<step>[i].<id>`); absent: the step's own action. */
  steps?: PlanStep[];
}

export interface PlanParameter {
  type: 'string' | 'number' | 'boolean' | 'duration';
  default?: string | number | boolean;
  required: boolean;
  description?: string;
}

/**
 * A reference to a secret: the plan names where the value lives, never the value, and the
 * hosts it may be sent to (declared, or the fixed destinations the compiler found).
 */
export type PlanSecret = ({ env: string } | { file: string }) & { hosts?: string[] };

export interface Plan {
  version: typeof PLAN_VERSION;
  /** sha256 of the plan's content (without this field). */
  hash: string;
  name: string;
  description?: string;
  labels: Record<string, string>;
  source: string;
  mode: Mode;
  objectives: { rto_ms?: number; rpo_ms?: number };
  parameters: Record<string, PlanParameter>;
  secrets: Record<string, PlanSecret>;
  triggers: {
    alert?: AlertTriggerPlan;
    schedule?: ScheduleTriggerPlan;
    manual: boolean;
  };
  /** The sites steps may name with `site:` (spec.sites); absent when the runbook names none. */
  sites?: string[];
  steps: PlanStep[];
  on_failure: PlanStep[];
  finally: PlanStep[];
  /** Plans of the runbooks this one runs with `uses: runbook`, keyed by their path. */
  children: Record<string, Plan>;
  /**
   * spec.notify: per run event, the notify step that tells people of it (its channels
   * expanded, its message a template that may read `event`). Absent when the runbook
   * notifies no one, so plans compiled before it keep their hash.
   */
  notify?: Partial<Record<RunEvent, PlanStep>>;
}

/** What happens in a run that spec.notify can tell people of. */
export const RUN_EVENTS = ['started', 'approval_waiting', 'step_failed', 'succeeded', 'failed', 'cancelled', 'objective_missed'] as const;
export type RunEvent = (typeof RUN_EVENTS)[number];

/**
 * What a spec.notify message template reads as `event`: its name, the default text, and per
 * event what it is about (the step and why it failed; who may approve, until when, what a
 * timeout does and the commands; the measured time against the objective).
 */
export const EVENT_FIELDS = [
  'name',
  'text',
  'step',
  'reason',
  'approvers',
  'min_approvals',
  'deadline',
  'on_timeout',
  'approve_command',
  'reject_command',
  'objective',
  'measured_ms',
  'objective_ms',
] as const;
