// What a run left on record: its Plan and parameters (the workflow input), its final status, and each step's evaluated `with:`.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { PartialChange } from '../contract/action.ts';
import type { ActionInput, RunInput, RunStatus } from '../contract/run.ts';
import type { Plan } from '../contract/plan.ts';
import { fetchStatus } from './runs.ts';

export interface RunRecord {
  workflowId: string;
  /** The execution read (an id may be reused by later runs; a child is read as the one its parent started). */
  runId: string;
  plan: Plan;
  params: RunInput['params'];
  /** How the run started (an alert's startsAt is where a report's RTO begins). */
  trigger?: RunInput['trigger'];
  status: RunStatus;
  /**
   * Each activity step's `with:` as the workflow evaluated it (secrets still references),
   * read from the history's ActivityTaskScheduled events: exactly what the step was given.
   */
  inputs: Record<string, Record<string, unknown>>;
  /**
   * What each failed or cancelled activity step said it may have changed: the `partial` its
   * last attempt put in its failure details (ActivityTaskFailed) or cancellation details
   * (ActivityTaskCanceled) — written by the worker, with secrets masked, like outputs.
   */
  partial: Record<string, PartialChange>;
  /** Whether the workflow has closed (a failback or a final report needs it closed). */
  closed: boolean;
  /** The records of the child runbooks its `uses: runbook` steps started, by step id: a failback undoes what they changed too. */
  children: Record<string, RunRecord>;
}

type Payloads = { payloads?: Parameters<typeof defaultPayloadConverter.fromPayload>[0][] | null } | null | undefined;

function first<T>(payloads: Payloads): T | undefined {
  const payload = payloads?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/** Reads a run's record from Temporal: its history and, through the status query or its result, its steps. */
export async function loadRunRecord(client: Client, workflowId: string, runId?: string): Promise<RunRecord> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const events = history.events ?? [];
  const input = first<RunInput>(events[0]?.workflowExecutionStartedEventAttributes?.input);
  if (!input?.plan) throw new Error(`${workflowId} is not a Rebound run (its workflow input holds no plan)`);
  const inputs: RunRecord['inputs'] = {};
  const partial: RunRecord['partial'] = {};
  const stepOf = new Map<string, string>();
  for (const event of events) {
    const scheduled = first<ActionInput>(event.activityTaskScheduledEventAttributes?.input);
    if (scheduled?.step) {
      inputs[scheduled.step] = scheduled.with;
      stepOf.set(String(event.eventId), scheduled.step);
    }
    const ended = event.activityTaskFailedEventAttributes ?? event.activityTaskCanceledEventAttributes;
    const step = ended ? stepOf.get(String(ended.scheduledEventId)) : undefined;
    if (!step) continue;
    const details = event.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.details ?? event.activityTaskCanceledEventAttributes?.details;
    const said = first<{ partial?: PartialChange }>(details)?.partial;
    if (said) partial[step] = said;
    else delete partial[step];
  }
  const status = await fetchStatus(client, workflowId, description.runId);
  const closed = description.status.name !== 'RUNNING';
  const children = await loadChildren(client, workflowId, input.plan, startedChildren(events));
  return {
    workflowId,
    runId: description.runId,
    plan: input.plan,
    params: input.params ?? {},
    ...(input.trigger ? { trigger: input.trigger } : {}),
    status,
    inputs,
    partial,
    closed,
    children,
  };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

/** The executions this run's history says it started as children: workflow id → run id. */
function startedChildren(events: HistoryEvent[]): Map<string, string> {
  const started = new Map<string, string>();
  for (const event of events) {
    const execution = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (execution?.workflowId && execution.runId) started.set(execution.workflowId, execution.runId);
  }
  return started;
}

/**
 * The child runs of a run's `uses: runbook` steps, as its own history recorded them (the
 * interpreter names each `<run>.<step>`; the run id pins the execution): a workflow started
 * later under that id is not this run's child. A step whose child never started changed nothing.
 */
async function loadChildren(client: Client, workflowId: string, plan: Plan, started: Map<string, string>): Promise<Record<string, RunRecord>> {
  const children: Record<string, RunRecord> = {};
  for (const step of [...plan.steps, ...plan.on_failure, ...plan.finally].filter((s) => s.child)) {
    const childId = `${workflowId}.${step.id}`;
    const runId = started.get(childId);
    if (runId) children[step.id] = await loadRunRecord(client, childId, runId);
  }
  return children;
}
