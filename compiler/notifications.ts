// spec.notify: per run event, a notify step the interpreter runs beside the run's own steps (never blocking them), its channels expanded and its message template checked.
import { EVENT_FIELDS, RUN_EVENTS, type Plan, type PlanStep, type RunEvent } from '../contract/plan.ts';
import { notifyInput } from './channels.ts';
import type { ReferenceScope } from './references.ts';
import type { StepContext } from './step-context.ts';
import { checkTemplates } from './templates.ts';

/** A notification retries for about two minutes, then shows as failed in status and the report; the run never waits on more. */
const NOTIFY_RETRY: PlanStep['retry'] = { maximum_attempts: 5, initial_interval_ms: 2_000, backoff: 2, maximum_interval_ms: 30_000, non_retryable: [] };

type Written = string[] | { channels: string[]; message?: string; title?: string; severity?: string };

/** spec.notify compiled, or undefined when the runbook notifies no one (the plan then has no `notify`, as before). */
export function compileNotifications(raw: unknown, ctx: StepContext, allIds: ReadonlySet<string>): Plan['notify'] {
  if (!raw || typeof raw !== 'object') return undefined;
  const scope: ReferenceScope = {
    params: ctx.params,
    secrets: ctx.secrets,
    all: allIds,
    allowSecrets: false,
    // A message may read any step: one that has not run reads as pending.
    visible: () => true,
    outputs: () => undefined,
    roots: new Set(['params', 'run', 'trigger', 'steps', 'event']),
    event: EVENT_FIELDS,
  };
  const out: Partial<Record<RunEvent, PlanStep>> = {};
  for (const [event, value] of Object.entries(raw as Record<string, Written>)) {
    if (!(RUN_EVENTS as readonly string[]).includes(event) || !value) continue; // reported by the document schema
    const path = ['spec', 'notify', event];
    const written = Array.isArray(value) ? { channels: value } : value;
    const what = `spec.notify.${event}`;
    const input = notifyInput(`${what}.`, path, { channels: written.channels }, ctx, Array.isArray(value) ? path : [...path, 'channels']);
    const template = (field: 'message' | 'title') =>
      written[field] === undefined ? {} : { [field]: checkTemplates(written[field], [...path, field], scope, ctx, `${what}.${field}`) };
    const { line, col } = ctx.source.locate(path);
    out[event as RunEvent] = {
      id: `notify.${event}`,
      uses: 'notify',
      kind: 'activity',
      backend: 'notify',
      impact: 'read',
      phase: 'finally',
      with: input.plan({
        channels: written.channels,
        ...template('message'),
        ...template('title'),
        ...(written.severity ? { severity: written.severity } : {}),
      }),
      needs: [],
      after: [],
      retry: NOTIFY_RETRY,
      timeout_ms: 60_000,
      heartbeat_timeout_ms: 30_000,
      continue_on_error: true,
      execution: 'run',
      line,
      col,
    };
  }
  return Object.keys(out).length ? out : undefined;
}
