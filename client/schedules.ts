// Temporal Schedules for runbooks with `triggers.schedule`: the desired options, and an idempotent reconcile (create, update, prune).
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleOverlapPolicy } from '@temporalio/client';
import { resolveParams } from '../contract/params.ts';
import type { Plan } from '../contract/plan.ts';
import { WORKFLOW_TYPE, type RunInput } from '../contract/run.ts';
import type { ScheduleOverlap, ScheduleTriggerPlan } from '../contract/trigger.ts';
import { MODE_KEY, RUNBOOK_KEY } from './runs.ts';
import { keyFingerprint, signingKey, signPlan, signStarter } from './signing.ts';

/** Schedule memo key marking a schedule as Rebound's (its value: the runbook file); prune only touches these. */
const MANAGED = 'rebound_runbook_file';
/** Action memo keys (the schedule memo cannot be updated, the action's can): what the schedule was made from. */
const PLAN_HASH = 'rebound_plan_hash';
const SCHEDULE_HASH = 'rebound_schedule_hash';
/** The signing key's fingerprint: after a key rotation, apply re-signs every schedule. */
const SIGNED_BY = 'rebound_signed_by';

const OVERLAP: Record<ScheduleOverlap, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  allow_all: 'ALLOW_ALL',
  cancel_other: 'CANCEL_OTHER',
};

export interface DesiredSchedule {
  /** The schedule id: the runbook's name. */
  id: string;
  file: string;
  plan: Plan;
  schedule: ScheduleTriggerPlan;
  taskQueue: string;
}

export interface ScheduleChange {
  id: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  why: string;
}

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
const scheduleHash = (d: DesiredSchedule) => sha({ schedule: d.schedule, taskQueue: d.taskQueue });
/** The runbook without its triggers (and the path it was read from), so a schedule-only edit reads as one. */
const runbookHash = (plan: Plan) => sha({ ...plan, hash: undefined, triggers: undefined, source: undefined });

function spec(s: ScheduleTriggerPlan): ScheduleOptions['spec'] {
  return {
    ...(s.cron ? { cronExpressions: [s.cron] } : { intervals: [{ every: s.every_ms! }] }),
    ...(s.timezone ? { timezone: s.timezone } : {}),
    ...(s.jitter_ms ? { jitter: s.jitter_ms } : {}),
  };
}

/** What Temporal should hold for one runbook; scheduled runs carry the plan (secret references only). */
export function scheduleOptions(d: DesiredSchedule): ScheduleOptions {
  const key = signingKey();
  const input: RunInput = {
    plan: d.plan,
    params: resolveParams(d.plan, d.schedule.params),
    trigger: { kind: 'schedule', schedule: { id: d.id } },
    signatures: signPlan(d.plan, key),
    // Temporal appends the scheduled time to the id, so the statement covers the prefix.
    started_by: signStarter({ identity: `schedule:${d.id}`, workflow_id: `${d.id}:scheduled`, prefix: true, plan_hash: d.plan.hash }, key),
  };
  return {
    scheduleId: d.id,
    spec: spec(d.schedule),
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      // Temporal appends the scheduled time, so each run's id is unique and readable.
      workflowId: `${d.id}:scheduled`,
      taskQueue: d.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: RUNBOOK_KEY, value: d.plan.name },
        { key: MODE_KEY, value: d.plan.mode },
      ],
      memo: { [PLAN_HASH]: runbookHash(d.plan), [SCHEDULE_HASH]: scheduleHash(d), [SIGNED_BY]: keyFingerprint(key) },
      staticSummary: `${d.plan.name} (${d.plan.mode}, scheduled)`,
    },
    policies: { overlap: OVERLAP[d.schedule.overlap], catchupWindow: d.schedule.catchup_window_ms, pauseOnFailure: d.schedule.pause_on_failure },
    memo: { [MANAGED]: d.file },
  };
}

/** Rebound's schedules (those with its memo mark), by id. */
export async function managedSchedules(client: Client): Promise<Map<string, ScheduleDescription>> {
  const out = new Map<string, ScheduleDescription>();
  for await (const summary of client.schedule.list()) {
    if (!summary.memo || !(MANAGED in summary.memo)) continue;
    try {
      out.set(summary.scheduleId, await client.schedule.getHandle(summary.scheduleId).describe());
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
  return out;
}

function changeOf(d: DesiredSchedule, existing: ScheduleDescription | undefined): ScheduleChange {
  if (!existing) return { id: d.id, action: 'create', why: describeWhen(d.schedule) };
  const memo = existing.action.memo ?? {};
  const why = [
    memo[PLAN_HASH] !== runbookHash(d.plan) ? 'runbook changed (steps, parameters or secrets)' : '',
    memo[SCHEDULE_HASH] !== scheduleHash(d) ? `schedule changed (now ${describeWhen(d.schedule)})` : '',
    memo[SIGNED_BY] !== keyFingerprint(signingKey()) ? `signed by another key (now ${keyFingerprint(signingKey())})` : '',
  ].filter(Boolean);
  return why.length ? { id: d.id, action: 'update', why: why.join('; ') } : { id: d.id, action: 'unchanged', why: describeWhen(d.schedule) };
}

export function describeWhen(s: ScheduleTriggerPlan): string {
  const when = s.cron ? `cron "${s.cron}"${s.timezone ? ` ${s.timezone}` : ''}` : `every ${s.every_ms! / 1000}s`;
  return `${when}, overlap ${s.overlap}, catch-up ${s.catchup_window_ms / 1000}s, ${s.mode} mode`;
}

async function applyChange(client: Client, change: ScheduleChange, desired: DesiredSchedule | undefined): Promise<void> {
  const handle = client.schedule.getHandle(change.id);
  if (change.action === 'create') await client.schedule.create(scheduleOptions(desired!));
  if (change.action === 'delete') await handle.delete();
  if (change.action === 'update') {
    const { spec, action, policies } = scheduleOptions(desired!);
    // A person's pause (and its note) outlives a runbook edit.
    await handle.update((previous) => ({ spec, action, policies, state: { paused: previous.state.paused, note: previous.state.note } }));
  }
}

/**
 * Brings Temporal's schedules in line with the runbooks: creates and updates, and with
 * `prune` deletes Rebound's schedules whose runbook is gone. Running it twice changes nothing.
 */
export async function reconcileSchedules(client: Client, desired: DesiredSchedule[], options: { dryRun: boolean; prune: boolean }): Promise<ScheduleChange[]> {
  const existing = await managedSchedules(client);
  const changes = desired.map((d) => changeOf(d, existing.get(d.id)));
  const wanted = new Set(desired.map((d) => d.id));
  for (const id of [...existing.keys()].filter((k) => !wanted.has(k)).sort()) {
    const file = String(existing.get(id)!.memo?.[MANAGED] ?? '?');
    changes.push(
      options.prune
        ? { id, action: 'delete', why: `runbook no longer present (was ${file})` }
        : { id, action: 'unchanged', why: `kept: not in these runbooks (${file}); --prune deletes it` },
    );
  }
  if (options.dryRun) return changes;
  for (const change of changes) {
    await applyChange(
      client,
      change,
      desired.find((d) => d.id === change.id),
    );
  }
  return changes;
}
