// Starting runbook runs on Temporal and following them: run ids, search attributes, live status with retries, the final status of closed runs.
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, TemporalFailure } from '@temporalio/common';
import type { Plan } from '../contract/plan.ts';
import { statusQuery, WORKFLOW_TYPE, type RunStatus } from '../contract/run.ts';
import type { Trigger } from '../contract/trigger.ts';
import { signPlan, signStarter, starterIdentity } from './signing.ts';

export const RUNBOOK_KEY = defineSearchAttributeKey('ReboundRunbook', SearchAttributeType.KEYWORD);
export const MODE_KEY = defineSearchAttributeKey('ReboundMode', SearchAttributeType.KEYWORD);

export function newRunId(plan: Plan): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${plan.name}-${plan.mode}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function startRun(
  client: Client,
  plan: Plan,
  params: Record<string, string | number | boolean>,
  options: { taskQueue: string; workflowId?: string; trigger?: Trigger; startedBy?: string },
): Promise<WorkflowHandle> {
  const workflowId = options.workflowId ?? newRunId(plan);
  const started_by = signStarter({ identity: options.startedBy ?? starterIdentity(), workflow_id: workflowId, plan_hash: plan.hash });
  return client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId,
    args: [{ plan, params, ...(options.trigger ? { trigger: options.trigger } : {}), signatures: signPlan(plan), started_by }],
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: plan.name },
      { key: MODE_KEY, value: plan.mode },
    ],
    staticSummary: `${plan.name} (${plan.mode})`,
  });
}

/** The status a closed run left behind: its result, or the details of its failure. */
function statusFromError(error: unknown): RunStatus | undefined {
  let current: unknown = error instanceof WorkflowFailedError ? error.cause : error;
  while (current instanceof TemporalFailure) {
    const details = (current as { details?: unknown[] }).details;
    if (details?.[0] && typeof details[0] === 'object' && 'steps' in (details[0] as object)) return details[0] as RunStatus;
    current = current.cause;
  }
  return undefined;
}

export async function finalStatus(handle: WorkflowHandle): Promise<RunStatus> {
  try {
    return (await handle.result()) as RunStatus;
  } catch (error) {
    const status = statusFromError(error);
    if (status) return status;
    // A cancelled workflow's failure carries no details; a worker can still answer the
    // status query of a closed run by replaying its history.
    try {
      return await handle.query(statusQuery);
    } catch {
      throw error;
    }
  }
}

/** Live status of a run, with attempt counts and last failures of steps still retrying. */
export async function fetchStatus(client: Client, workflowId: string, runId?: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return finalStatus(handle);
  const status = await handle.query(statusQuery);
  for (const pending of description.raw.pendingActivities ?? []) {
    const type = pending.activityType?.name;
    const running = status.steps.filter((s) => s.status === 'running' && s.uses === type);
    if (running.length !== 1) continue;
    running[0]!.attempt = pending.attempt ?? running[0]!.attempt;
    const last = pending.lastFailure?.message;
    if (last) running[0]!.reason = `retrying: ${last}`;
  }
  return status;
}

/**
 * The execution of `childId` that this parent execution started, found through the child's
 * parent link or else the parent's history (its child-started events): a workflow started
 * later under the same id, by anyone, is not the child.
 */
async function childRunId(client: Client, parentId: string, parentRunId: string, childId: string): Promise<string | undefined> {
  const latest = await client.workflow.getHandle(childId).describe();
  if (latest.parentExecution?.workflowId === parentId && latest.parentExecution.runId === parentRunId) return latest.runId;
  const history = await client.workflow.getHandle(parentId, parentRunId).fetchHistory();
  const started = (history.events ?? []).map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution);
  return started.filter((e) => e?.workflowId === childId).at(-1)?.runId ?? undefined;
}

/**
 * A run's status with its child runs' steps after the step that started each, as
 * `<child step>.<step>`: where a parent run is, at any depth. A child not started yet, or
 * whose status cannot be read now, shows as its step alone.
 */
export async function withChildren(client: Client, workflowId: string, status: RunStatus, runId?: string): Promise<RunStatus> {
  const steps: RunStatus['steps'] = [];
  let parentRunId = runId;
  for (const step of status.steps) {
    steps.push(step);
    if (step.uses !== 'runbook' || step.status === 'pending' || step.status === 'skipped') continue;
    const childId = `${workflowId}.${step.id}`;
    parentRunId ??= (await client.workflow.getHandle(workflowId).describe()).runId;
    const child = await childRunId(client, workflowId, parentRunId, childId)
      .then(async (id) => (id ? withChildren(client, childId, await fetchStatus(client, childId, id), id) : undefined))
      .catch(() => undefined);
    if (child) steps.push(...child.steps.map((s) => ({ ...s, id: `${step.id}.${s.id}` })));
  }
  return { ...status, steps };
}

/** Follows a run to its end, calling `onUpdate` with its status (its children's steps in it) as it changes; returns the run's own final status. */
export async function followRun(client: Client, handle: WorkflowHandle, onUpdate: (status: RunStatus) => void, intervalMs = 500): Promise<RunStatus> {
  let done = false;
  const result = finalStatus(handle).finally(() => {
    done = true;
  });
  while (!done) {
    try {
      onUpdate(await withChildren(client, handle.workflowId, await fetchStatus(client, handle.workflowId)));
    } catch {
      // The worker may be restarting; the run goes on and so do we.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  const status = await result;
  onUpdate(await withChildren(client, handle.workflowId, status));
  return status;
}
