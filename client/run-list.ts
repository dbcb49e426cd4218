// The console's list of recent runs: root runs of the runbook workflow, newest first, filtered by runbook, mode, state and trigger (the trigger read from the run's id, as serve and schedules name them).
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../contract/run.ts';
import { MODE_KEY, RUNBOOK_KEY } from './runs.ts';

export type ListState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';
export type ListTrigger = 'alert' | 'schedule' | 'manual';

export interface RunFilters {
  runbook?: string;
  mode?: string;
  state?: ListState;
  trigger?: ListTrigger;
}

export interface RunSummary {
  workflow_id: string;
  runbook: string;
  mode: string;
  state: ListState;
  trigger: ListTrigger;
  started_at: string;
  ended_at?: string;
}

/** Temporal's execution status by our name for it (a run that fails ends its workflow failed). */
const STATUSES: Record<ListState, string> = {
  running: 'Running',
  succeeded: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};
const BY_TEMPORAL: Record<string, ListState> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'succeeded',
};
export const LIST_STATES = Object.keys(STATUSES) as ListState[];
export const LIST_TRIGGERS: ListTrigger[] = ['alert', 'schedule', 'manual'];

/** Runbook names and modes are names (compiler-checked); anything else is refused before it reaches the visibility query. */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** serve starts `<runbook>:alert[:key]`, schedules `<schedule>:scheduled-<time>`; every other root run was started by hand. */
export function triggerOfId(workflowId: string): ListTrigger {
  if (/:alert(:|$)/.test(workflowId)) return 'alert';
  if (/:scheduled(-|$)/.test(workflowId)) return 'schedule';
  return 'manual';
}

export function visibilityQuery(filters: RunFilters): string {
  const parts = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  for (const [key, value] of [
    ['ReboundRunbook', filters.runbook],
    ['ReboundMode', filters.mode],
  ] as const) {
    if (value === undefined || value === '') continue;
    if (!SAFE.test(value)) throw new Error(`"${value}" is not a runbook or mode name`);
    parts.push(`${key} = '${value}'`);
  }
  if (filters.state) parts.push(`ExecutionStatus = '${STATUSES[filters.state]}'`);
  return parts.join(' AND ');
}

/** Up to `limit` root runs matching the filters, newest first (Temporal's visibility order). */
export async function listRuns(client: Client, filters: RunFilters, limit = 50): Promise<RunSummary[]> {
  const rows: RunSummary[] = [];
  for await (const run of client.workflow.list({ query: visibilityQuery(filters) })) {
    // Child runs (`<parent>.<step>`) show on their parent's page.
    if (run.parentExecution) continue;
    const trigger = triggerOfId(run.workflowId);
    if (filters.trigger && trigger !== filters.trigger) continue;
    rows.push({
      workflow_id: run.workflowId,
      runbook: run.typedSearchAttributes.get(RUNBOOK_KEY) ?? '',
      mode: run.typedSearchAttributes.get(MODE_KEY) ?? '',
      state: BY_TEMPORAL[run.status.name] ?? 'running',
      trigger,
      started_at: run.startTime.toISOString(),
      ...(run.closeTime ? { ended_at: run.closeTime.toISOString() } : {}),
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
