// The zod schema of the runbook document (rebound/v1): metadata, parameters, secrets, triggers, sites, and steps with retry, timeout and drill.
import { z } from 'zod';
import { DURATION_PATTERN } from '../contract/duration.ts';
import { MAX_PARALLEL } from '../contract/for-each.ts';
import { RUN_EVENTS } from '../contract/plan.ts';

/**
 * The runbook document, format v1. This schema is the truth for the format: the compiler
 * validates against it and `rebound schema` turns it into JSON Schema for editors.
 * `with:` is checked separately, against the schema of the action a step `uses:`.
 */
const duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 10m or 1h');
const name = z.string().regex(/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/i, 'use letters, digits, "-" and "_"');

export const RetrySchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(1000).optional(),
  initial_interval: duration.optional(),
  backoff: z.number().min(1).max(100).optional(),
  max_interval: duration.optional(),
  non_retryable: z.array(z.string()).optional(),
});

/** A step that runs an action: a phase's step, or one of a for_each group's `steps:`. */
export const ActionStepSchema = z.strictObject({
  id: name,
  name: z.string().optional(),
  uses: z.string().min(1),
  with: z.record(z.string(), z.unknown()).optional(),
  needs: z.array(z.string()).optional(),
  if: z.string().min(1).optional(),
  retry: RetrySchema.optional(),
  timeout: duration.optional(),
  heartbeat_timeout: duration.optional(),
  continue_on_error: z.boolean().optional(),
  site: name.optional().describe('the site whose workers run this step (task queue rebound-<site>); one of spec.sites'),
  site_timeout: duration.optional().describe('how long the step waits for a worker of its site before failing (default: spec.site_timeout, else 5m)'),
  drill: z
    .union([z.enum(['run', 'simulate', 'skip']), z.strictObject({ with: z.record(z.string(), z.unknown()) })])
    .optional()
    .describe('What a drill does with this step: run, simulate, skip, or run with drill-safe `with` overrides'),
  analysis: z
    .array(
      z.strictObject({
        id: name.optional().describe('names the check in outputs and logs (default check-1, check-2, …)'),
        name: z.string().optional(),
        uses: z.string().min(1).describe('a read action: http.check, metrics.check, k8s.wait, …'),
        with: z.record(z.string(), z.unknown()).optional(),
        retry: RetrySchema.optional(),
        timeout: duration.optional(),
        drill: z
          .strictObject({ with: z.record(z.string(), z.unknown()) })
          .optional()
          .describe('drill-only `with` overrides (judge the standby in a drill)'),
      }),
    )
    .min(1)
    .optional()
    .describe('traffic.shift only: the read steps run after each step of the shift; one that fails rolls the shift back (or holds)'),
});

/** A phase's step: an action step, which `for_each:` may run once per item, or a for_each group of steps (`steps:` instead of `uses:`). */
export const StepSchema = ActionStepSchema.extend({
  uses: z.string().min(1).optional().describe('the action this step runs (a for_each group gives steps: instead)'),
  for_each: z
    .union([z.array(z.unknown()), z.string()], { error: 'for_each takes a list, or one ${{ }} expression that gives a list' })
    .optional()
    .describe('run this step (or its steps:) once per item: a list, or a ${{ }} expression giving one; item and index read the current one'),
  parallel: z
    .number()
    .int()
    .min(1, 'parallel is how many iterations run at once: 1 or more')
    .max(MAX_PARALLEL, `parallel runs at most ${MAX_PARALLEL} iterations at once`)
    .optional()
    .describe(`with for_each: how many iterations run at once (default 1: in order; at most ${MAX_PARALLEL})`),
  steps: z
    .array(ActionStepSchema)
    .min(1, 'a for_each group needs at least one step')
    .optional()
    .describe('with for_each: a group of steps (needs among themselves) run once per item, instead of uses:'),
});

export const ParameterSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'duration']),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  description: z.string().optional(),
});

const hosts = z
  .array(z.string().regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9a-fA-F:.]+\]$/, 'a host name, *.domain or [ipv6]'))
  .min(1)
  .optional()
  .describe('the hosts this secret may be sent to, needed where a step sends it to a destination computed at run time (a parameter, an alert)');
export const SecretSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), hosts }),
  z.strictObject({ file: z.string().min(1), hosts }),
]);

const triggerParams = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .describe('parameter values for the runs this trigger starts; alert params may use ${{ trigger.alert.… }}');
const triggerMode = z.enum(['run', 'drill']).describe('the mode of the runs this trigger starts (default run)');

export const AlertTriggerSchema = z.strictObject({
  match: z.record(z.string(), z.string()).describe('label → exact value, or /regex/ (anchored); every one must match'),
  params: triggerParams.optional(),
  dedup_key: z.string().min(1).optional().describe('${{ … }} template; alerts with the same key share one run (default: one run of this runbook at a time)'),
  cooldown: duration.optional().describe('after a run for a key ends, alerts for that key start nothing for this long'),
  mode: triggerMode.optional(),
});

export const ScheduleTriggerSchema = z.strictObject({
  cron: z.string().min(1).optional().describe('a cron expression (give cron or every)'),
  every: duration.optional().describe('an interval such as 15m (give cron or every)'),
  timezone: z.string().optional().describe('IANA time zone of the cron expression (default UTC)'),
  params: triggerParams.optional(),
  mode: triggerMode.optional(),
  overlap: z.enum(['skip', 'buffer_one', 'allow_all', 'cancel_other']).optional().describe('when a run is due while the last one runs (default skip)'),
  catchup_window: duration.optional().describe('how late a missed run may still start after an outage (default 1h)'),
  jitter: duration.optional().describe('random delay up to this long before each run'),
  pause_on_failure: z.boolean().optional().describe('pause the schedule when a run fails'),
});

export const TriggersSchema = z.strictObject({
  alert: AlertTriggerSchema.optional(),
  schedule: ScheduleTriggerSchema.optional(),
  manual: z.boolean().optional(),
});

export const NotificationSchema = z.strictObject({
  channels: z.array(name).min(1).describe('names of spec.channels'),
  message: z.string().min(1).optional().describe('a ${{ }} template that may read event.* (default: what happened, said plainly)'),
  title: z.string().min(1).optional(),
  severity: z
    .enum(['info', 'warning', 'error', 'critical'])
    .optional()
    .describe('default per event: failed critical, step_failed error, approval_waiting, cancelled and objective_missed warning, else info'),
});

export const RunbookSchema = z.strictObject({
  apiVersion: z.literal('rebound/v1'),
  kind: z.literal('Runbook'),
  metadata: z.strictObject({
    name,
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    objectives: z.strictObject({ rto: duration.optional(), rpo: duration.optional() }).optional(),
    parameters: z.record(z.string(), ParameterSchema).optional(),
    secrets: z.record(z.string(), SecretSchema).optional(),
    channels: z
      .record(name, z.record(z.string(), z.unknown()))
      .optional()
      .describe('notification channels by name (slack, teams, pagerduty, email, webhook), which notify steps and spec.notify name'),
    notify: z
      .partialRecord(z.enum(RUN_EVENTS), z.union([z.array(name).min(1), NotificationSchema]))
      .optional()
      .describe('who is told of what in a run: event → channel names, or {channels, message, title, severity}'),
    triggers: TriggersSchema.optional(),
    sites: z.array(name).min(1).optional().describe('the sites steps may run in, e.g. [primary, dr]; each is served by rebound worker --site <site>'),
    site: name.optional().describe('the site of steps that name none (one of sites)'),
    site_timeout: duration.optional().describe('how long a step waits for a worker of its site before failing (default 5m)'),
    steps: z.array(StepSchema).min(1, 'a runbook needs at least one step'),
    on_failure: z.array(StepSchema).optional(),
    finally: z.array(StepSchema).optional(),
  }),
});

export type StepDocument = z.infer<typeof StepSchema>;
