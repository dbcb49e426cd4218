// What a run left on record: its Plan and parameters (the workflow input), its final status, and each step's evaluated `with:`.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActionInput, RunInput, RunStatus } from '../contract/run.ts';
import type { Plan } from '../contract/plan.ts';
import { fetchStatus } from './runs.ts';

export interface RunRecord {
  workflowId: string;
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
  /** Whether the workflow has closed (a failback or a final report needs it closed). */
  closed: boolean;
}

type Payloads = { payloads?: Parameters<typeof defaultPayloadConverter.fromPayload>[0][] | null } | null | undefined;

function first<T>(payloads: Payloads): T | undefined {
  const payload = payloads?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/** Reads a run's record from Temporal: its history and, through the status query or its result, its steps. */
export async function loadRunRecord(client: Client, workflowId: string): Promise<RunRecord> {
  const handle = client.workflow.getHandle(workflowId);
  const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const events = history.events ?? [];
  const input = first<RunInput>(events[0]?.workflowExecutionStartedEventAttributes?.input);
  if (!input?.plan) throw new Error(`${workflowId} is not a Rebound run (its workflow input holds no plan)`);
  const inputs: RunRecord['inputs'] = {};
  for (const event of events) {
    const scheduled = first<ActionInput>(event.activityTaskScheduledEventAttributes?.input);
    if (scheduled?.step) inputs[scheduled.step] = scheduled.with;
  }
  const status = await fetchStatus(client, workflowId);
  const closed = description.status.name !== 'RUNNING';
  return { workflowId, plan: input.plan, params: input.params ?? {}, ...(input.trigger ? { trigger: input.trigger } : {}), status, inputs, closed };
}
