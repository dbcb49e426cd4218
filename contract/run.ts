// What the interpreter workflow and its clients share: input, status, signals, queries, activity input.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SignedVote, StarterStatement, VoteRecord } from './approvals.ts';
import type { PlanSignature, PlanSignatures } from './canonical.ts';
import type { DrillState } from './resource-state.ts';
import type { Plan, Phase, Execution, RunEvent } from './plan.ts';
import type { Trigger } from './trigger.ts';

/** Shared between the workflow and its clients (CLI, tests): names are part of the API. */
export const WORKFLOW_TYPE = 'runbook';

/** The local activity every worker registers beside the actions: the plan check a run makes first. */
export const VERIFY_PLAN_ACTIVITY = 'rebound.verify_plan';

/** Search attributes every run carries; a namespace needs them registered (`rebound setup`). */
export const SEARCH_ATTRIBUTES = { ReboundRunbook: 'Keyword', ReboundMode: 'Keyword' } as const;

export interface RunInput {
  plan: Plan;
  /** Already checked against plan.parameters by the client; checked again in the workflow. */
  params: Record<string, string | number | boolean>;
  /** How the run started (`trigger.*`); absent in runs started before triggers existed: manual. */
  trigger?: Trigger;
  /** Signatures of the plan and its children by plan hash (client/signing.ts); a worker runs no unsigned plan. */
  signatures?: PlanSignatures;
  /** Who started the run, signed with the plan key (client/signing.ts): what self-approval is checked against. */
  started_by?: StarterStatement;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StepState {
  id: string;
  uses: string;
  phase: Phase;
  execution: Execution;
  status: StepStatus;
  /** Attempts the last activity took (1 for steps that are not activities). */
  attempt: number;
  started_at?: string;
  ended_at?: string;
  outputs?: Record<string, unknown>;
  /** Why it failed, or why it was skipped or cancelled. */
  reason?: string;
  continue_on_error: boolean;
  /** Which worker ran the step's last attempt (`pid@host`), and on which task queue. */
  worker?: string;
  task_queue?: string;
  /** An approval step's ballots (patch approval-policy): each counted or refused, with why. */
  votes?: VoteRecord[];
  /** A for_each step: how many items it runs over (its iterations are the steps `<id>[0]` … after it). */
  iterations?: number;
  /** A for_each iteration's `name:`, its `item` and `index` filled in. */
  name?: string;
}

export interface Objective {
  objective_ms?: number;
  measured_ms?: number;
  met?: boolean;
}

export interface DrillReport {
  rto: Objective;
  rpo: Objective & { note?: string };
  /** Each simulated production step's would-be change (patch drill-state), in plan order. */
  changes?: DrillChange[];
}

/** What a simulated production step would find (`before`: the state an earlier simulated step would have left, or the real one) and leave (`after`). */
export interface DrillChange {
  step: string;
  before?: unknown;
  after?: unknown;
  /** The earlier simulated step whose state `before` is; absent: read from the real resource. */
  before_from?: string;
}

export interface RunStatus {
  runbook: string;
  plan_hash: string;
  mode: Plan['mode'];
  state: RunState;
  started_at: string;
  ended_at?: string;
  error?: string;
  steps: StepState[];
  report?: DrillReport;
  /** The people told of this run (spec.notify), each event once: a failed notification shows here, never fails the run. */
  notifications?: NotificationRecord[];
}

/** One spec.notify event of a run and what became of telling people. */
export interface NotificationRecord {
  event: RunEvent;
  /** The step it is about (step_failed, approval_waiting). */
  step?: string;
  status: 'sending' | 'sent' | 'failed';
  at: string;
  /** The channels reached, when sent. */
  channels?: string[];
  /** Why it failed, after its retries. */
  reason?: string;
}

export interface Decision {
  step: string;
  /** Unverified: what a raw signal claims. Only a vote the approval service signed names a person. */
  by?: string;
  reason?: string;
  /** The vote as the approval service (`rebound serve`) signed it for the person it authenticated. */
  signed?: SignedVote;
}

export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
export const statusQuery = defineQuery<RunStatus>('status');

/** What an action activity receives: a reference-only view of the run. */
export interface ActionInput {
  runbook: string;
  run_id: string;
  step: string;
  backend: string;
  simulate: boolean;
  /** The step's retry limit, so a failure can say whether another attempt will come. */
  max_attempts: number;
  /** `with:` after expressions, secrets still as references. */
  with: Record<string, unknown>;
  /** Where each secret lives (env var or file name), never its value. */
  secrets: Plan['secrets'];
  /** The plan this step belongs to and its signature: the worker checks that `secrets` is the signed table. */
  plan_hash?: string;
  signature?: PlanSignature;
  /**
   * Where in `with` the plan put secret references (paths of keys and indexes). Only these
   * are resolved: a `{"$secret": …}` that arrived as data (an alert, a step's output) stays data.
   */
  secret_paths?: Array<Array<string | number>>;
  /**
   * A simulated step's resource as earlier simulated steps of the run would have left it (patch
   * drill-state): the action preflights against it instead of today's real state. Absent: none did.
   */
  drill_state?: DrillState;
}

export interface ActionResult {
  outputs: Record<string, unknown>;
  attempt: number;
  /** The worker that ran this attempt and its task queue: `rebound status` shows them per step. */
  worker?: string;
  task_queue?: string;
}
