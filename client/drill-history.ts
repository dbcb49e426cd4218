// A runbook's drill history for auditors: each drill's date, trigger, state, RTO/RPO measured against the objectives it ran under, and who approved what.
import type { Client } from '@temporalio/client';
import type { VoteRecord } from '../contract/approvals.ts';
import type { Objective, RunStatus } from '../contract/run.ts';
import type { Trigger } from '../contract/trigger.ts';
import { listRuns, mapLimited, type RunSummary } from './posture-runs.ts';
import { loadRunRecord } from './record.ts';

/** One approval step of a drill: how it was decided and by whom, with every ballot it recorded. */
export interface ApprovalRecord {
  step: string;
  status: string;
  decision?: 'approved' | 'rejected';
  /** Who decided (the approver the decision names, or `timeout`). */
  by?: string;
  reason?: string;
  timed_out?: boolean;
  /** Every approver whose vote counted. */
  approved_by: string[];
  votes: VoteRecord[];
}

export interface DrillRecord extends RunSummary {
  /** How it started: `schedule`, `alert` or `manual` (with who, when the run recorded it). */
  trigger: { kind: Trigger['kind'] | 'unknown'; by?: string };
  /** The objectives of the plan the drill ran (they may differ from today's runbook). */
  objectives: { rto_ms?: number; rpo_ms?: number };
  rto?: Objective;
  rpo?: Objective;
  error?: string;
  approvals: ApprovalRecord[];
}

function triggerOf(trigger: Trigger | undefined): DrillRecord['trigger'] {
  if (!trigger) return { kind: 'manual' };
  if (trigger.kind === 'manual') return { kind: 'manual', ...(trigger.manual.by ? { by: trigger.manual.by } : {}) };
  if (trigger.kind === 'schedule') return { kind: 'schedule', by: `schedule:${trigger.schedule.id}` };
  return { kind: 'alert', by: trigger.alert.source };
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The approval steps of a run's status, as decided. */
export function approvalsOf(status: RunStatus): ApprovalRecord[] {
  return status.steps
    .filter((s) => s.uses === 'approval')
    .map((s) => {
      const o = s.outputs ?? {};
      const decision = o.decision === 'approved' || o.decision === 'rejected' ? o.decision : undefined;
      const approvedBy = strings(o.approved_by);
      return {
        step: s.id,
        status: s.status,
        ...(decision ? { decision } : {}),
        ...(typeof o.by === 'string' ? { by: o.by } : {}),
        ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
        ...(typeof o.timed_out === 'boolean' ? { timed_out: o.timed_out } : {}),
        approved_by: approvedBy.length || decision !== 'approved' || typeof o.by !== 'string' ? approvedBy : [o.by],
        votes: s.votes ?? [],
      };
    });
}

async function recordOf(client: Client, run: RunSummary): Promise<DrillRecord> {
  const record = await loadRunRecord(client, run.workflow_id, run.run_id);
  const { status, plan } = record;
  return {
    ...run,
    trigger: triggerOf(record.trigger),
    objectives: plan.objectives,
    ...(status.report ? { rto: status.report.rto, rpo: status.report.rpo } : {}),
    ...(status.error ? { error: status.error } : {}),
    approvals: approvalsOf(status),
  };
}

/** The drills of a runbook (its plan's name), newest first; a drill whose record cannot be read is listed without its details. */
export async function loadDrillHistory(client: Client, runbook: string, limit = 50): Promise<DrillRecord[]> {
  const runs = await listRuns(client, runbook, { mode: 'drill', limit });
  return mapLimited(runs, 6, (run) =>
    recordOf(client, run).catch((): DrillRecord => ({
      ...run,
      trigger: { kind: 'unknown' },
      objectives: {},
      approvals: [],
      error: 'its record could not be read',
    })),
  );
}
