// Telling people of a run's events (spec.notify, patch run-notifications): each event's notify step starts beside the run's steps and is never awaited by them; what became of it is in status; the run waits for them only before it ends.
import { CancellationScope, patched } from '@temporalio/workflow';
import { renderValue, type ExpressionContext } from '../contract/expression.ts';
import type { PlanStep, RunEvent } from '../contract/plan.ts';
import type { NotificationRecord } from '../contract/run.ts';
import { describeFailure } from './failure.ts';
import { callActivity } from './perform.ts';
import { expressionContext, type Run } from './phases.ts';

/** What an event is about, readable in a message template as `event.*`. */
export interface EventDetail {
  step?: string;
  reason?: string;
  approvers?: string[];
  min_approvals?: number;
  deadline?: string;
  on_timeout?: string;
  approve_command?: string;
  reject_command?: string;
  objective?: 'rto' | 'rpo';
  measured_ms?: number;
  objective_ms?: number;
}

export interface Notifier {
  emit(event: RunEvent, detail?: EventDetail): void;
  /** An approval step ended: the page its approval_waiting opened is resolved. */
  decided(step: string): void;
  /** Waits for every notification started so far (each bounded by its retries). */
  drain(): Promise<void>;
}

const SEVERITY: Record<RunEvent, string> = {
  started: 'info',
  approval_waiting: 'warning',
  step_failed: 'error',
  succeeded: 'info',
  failed: 'critical',
  cancelled: 'warning',
  objective_missed: 'warning',
};

const now = (): string => new Date(Date.now()).toISOString();
const minutes = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s` : `${Math.round(ms / 1000)}s`);

/** What happened, said plainly: the message when the runbook gives none. */
function defaultText(event: RunEvent, d: EventDetail, run: Run): string {
  const name = `${run.ctx.plan.name} (${run.ctx.runId})`;
  switch (event) {
    case 'started':
      return `${name} started${run.trigger?.kind && run.trigger.kind !== 'manual' ? ` by ${run.trigger.kind}` : ''}.`;
    case 'approval_waiting': {
      const who = d.approvers?.length ? d.approvers.join(', ') : 'anyone in the approvers file';
      const how = `${d.min_approvals ?? 1} approval${(d.min_approvals ?? 1) === 1 ? '' : 's'} from ${who}`;
      const onTimeout = d.on_timeout === 'approve' ? 'it is approved automatically' : 'it is rejected';
      return `${name}: step "${d.step}" waits for ${how} until ${d.deadline}; on timeout ${onTimeout}.\nApprove: ${d.approve_command}\nReject:  ${d.reject_command}`;
    }
    case 'step_failed':
      return `${name}: step "${d.step}" failed: ${d.reason}`;
    case 'failed':
      return `${name} failed: ${d.reason}`;
    case 'succeeded':
      return `${name} succeeded${d.measured_ms !== undefined ? ` in ${minutes(d.measured_ms)}` : ''}.`;
    case 'cancelled':
      return `${name} was cancelled.`;
    case 'objective_missed':
      return `${name}: measured ${d.objective?.toUpperCase()} ${minutes(d.measured_ms ?? 0)} is past its objective of ${minutes(d.objective_ms ?? 0)}.`;
  }
}

/**
 * One PagerDuty incident per service (the `service` label, else the runbook; a failback counts
 * as its original's), so the run or failback that succeeds for it resolves what a failed one
 * opened. A drill's incidents are its own: a drill never resolves production's.
 */
function incidentKey(run: Run): string {
  const { plan } = run.ctx;
  const service = plan.labels.service ?? (plan.labels.failback_of ? plan.name.replace(/-failback$/, '') : plan.name);
  return `rebound:${plan.mode === 'drill' ? 'drill:' : ''}${service}`;
}

/** The notifier of a run whose plan notifies someone, under patch run-notifications; otherwise undefined (nothing is sent, nothing recorded). */
export function notifierOf(run: Run): Notifier | undefined {
  const { plan } = run.ctx;
  if (!plan.notify || !patched('run-notifications')) return undefined;
  const pending: Promise<unknown>[] = [];
  const records: NotificationRecord[] = (run.status.notifications = []);
  const key = incidentKey(run);
  /** Each event's own incident where a shared one would swallow its page: a waiting approval must page even while `started`'s is open. */
  const keyOf = (event: RunEvent, detail: EventDetail) =>
    event === 'approval_waiting' ? `${key}:approval:${run.ctx.runId}:${detail.step}` : event === 'objective_missed' ? `${key}:objective:${run.ctx.runId}` : key;
  const send = (step: PlanStep, input: Record<string, unknown>, record?: NotificationRecord) => {
    // Not in the run's scopes: a failing step cancelling its siblings, or the run being cancelled, must not silence it.
    const sent = CancellationScope.nonCancellable(() => callActivity(step, input, run.ctx)).then(
      (result) =>
        record &&
        Object.assign(record, { status: 'sent', at: now(), channels: ((result.outputs.sent ?? []) as Array<{ channel: string }>).map((s) => s.channel) }),
      (error: unknown) => record && Object.assign(record, { status: 'failed', at: now(), reason: describeFailure(error) }),
    );
    pending.push(sent);
  };
  const emit = (event: RunEvent, detail: EventDetail = {}) => {
    const step = plan.notify?.[event];
    if (!step) return;
    const record: NotificationRecord = { event, ...(detail.step ? { step: detail.step } : {}), status: 'sending', at: now() };
    records.push(record);
    // Nothing about telling people may fail the run's workflow task: a problem is the notification's, recorded.
    try {
      const text = defaultText(event, detail, run);
      const rendered = render(step, { ...expressionContext(run), event: { name: event, text, ...detail } });
      send(
        step,
        {
          ...rendered,
          message: rendered.message || text,
          title: rendered.title || undefined,
          severity: rendered.severity ?? SEVERITY[event],
          event: event === 'succeeded' ? 'resolve' : 'trigger',
          dedup_key: keyOf(event, detail),
          fields: { event, ...(detail.step ? { step: detail.step } : {}) },
        },
        record,
      );
    } catch (error) {
      Object.assign(record, { status: 'failed', at: now(), reason: `not sent: ${error instanceof Error ? error.message : String(error)}` });
    }
  };
  return {
    emit,
    decided(stepId: string) {
      const step = plan.notify?.approval_waiting;
      if (!step || !records.some((r) => r.event === 'approval_waiting' && r.step === stepId)) return;
      try {
        // Only PagerDuty keeps something open to close; chat and mail have been told already. The
        // step itself is narrowed (not only its input), so the secret paths it carries still point at them.
        const channels = (step.with.channels as Array<Record<string, unknown>>).filter((c) => 'pagerduty' in c);
        if (!channels.length) return;
        const paging = { ...step, with: { ...step.with, channels } };
        const rendered = render(paging, expressionContext(run));
        send(paging, { ...rendered, message: `step "${stepId}" was decided`, event: 'resolve', dedup_key: keyOf('approval_waiting', { step: stepId }) });
      } catch {
        // The page stays open for a person to resolve; the run goes on.
      }
    },
    async drain() {
      for (let seen = 0; seen < pending.length; seen = pending.length) await Promise.all(pending.slice(seen));
    },
  };
}

/** The step's `with:` filled in; a message or title template that cannot be (a step's output that is not there) gives way to the default. */
function render(step: PlanStep, context: ExpressionContext): Record<string, unknown> {
  try {
    return renderValue(step.with, context) as Record<string, unknown>;
  } catch {
    const { message: _m, title: _t, ...rest } = step.with;
    return renderValue(rest, context) as Record<string, unknown>;
  }
}
