// The work of one step in the interpreter: an activity (on its site's queue), an approval wait, a durable sleep, or a child runbook.
import { ActivityCancellationType, ActivityFailure, executeChild, patched, proxyActivities, sleep, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { runApproval, type Approvals } from './approval.ts';
import type { StarterStatement } from '../contract/approvals.ts';
import { approval, childRunbook, sleep as sleepSpec } from '../contract/actions/builtin.ts';
import { runShift } from './shift.ts';
import type { PlanSignatures } from '../contract/canonical.ts';
import { parseDuration } from '../contract/duration.ts';
import { nonRetryableTypes } from '../contract/failures.ts';
import { secretPaths, type ExpressionContext } from '../contract/expression.ts';
import type { Plan, PlanStep, RunEvent } from '../contract/plan.ts';
import { carriedFor, newDrillStates, recordDrillState, type DrillStates } from './drill-state.ts';
import type { EventDetail } from './notifications.ts';
import { WORKFLOW_TYPE, type ActionInput, type ActionResult, type RunInput, type RunStatus } from '../contract/run.ts';

/** Raised by a step that ends in a failure decided inside the workflow (rejected approval). */
export class StepRejected extends Error {}

export interface Ctx {
  plan: Plan;
  runId: string;
  approvals: Approvals;
  /** Who started the run (signed), for the self-approval rule. */
  startedBy?: StarterStatement;
  /** Set once the run has checked its plan's signatures (patch trusted-plans): passed to every activity and child. */
  signatures?: PlanSignatures;
  /** Tells people of an event (spec.notify); absent when the plan notifies no one. */
  notify?: (event: RunEvent, detail: EventDetail) => void;
  /** An approval step ended (its page, if any, is resolved); absent with notify. */
  decided?: (step: string) => void;
  /** A long step's outputs so far (a traffic.shift's weights), shown in status while it runs. */
  progress?: (step: string, outputs: Record<string, unknown>) => void;
  /** A drill's simulated state per resource (patch drill-state), made on the first activity. */
  drill?: DrillStates;
}

export type Outputs = { outputs: Record<string, unknown>; attempt: number; worker?: string; task_queue?: string };

/** A step with a site goes to that site's task queue, and waits only so long for a worker there. */
function siteOptions(step: PlanStep): { taskQueue?: string; scheduleToStartTimeout?: number } {
  if (!step.site) return {};
  return { taskQueue: `rebound-${step.site}`, scheduleToStartTimeout: step.site_timeout_ms ?? DEFAULT_SITE_TIMEOUT_MS };
}

/** How long a step with a site waits for one of its workers unless the runbook says otherwise. */
const DEFAULT_SITE_TIMEOUT_MS = 5 * 60_000;

async function runActivity(step: PlanStep, input: Record<string, unknown>, ctx: Ctx): Promise<Outputs> {
  try {
    return await callActivity(step, input, ctx);
  } catch (error) {
    // Temporal never retries a schedule-to-start timeout; say what it means here.
    if (step.site && isScheduleToStartTimeout(error)) {
      throw new StepRejected(
        `no worker for site ${step.site}: nothing polled task queue rebound-${step.site} within ${Math.round((step.site_timeout_ms ?? DEFAULT_SITE_TIMEOUT_MS) / 1000)}s (start one with: rebound worker --site ${step.site})`,
      );
    }
    throw error;
  }
}

function isScheduleToStartTimeout(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof TimeoutFailure && String(cause.timeoutType).replace('TIMEOUT_TYPE_', '') === 'SCHEDULE_TO_START';
}

/**
 * The failure types a step does not retry. A plan compiled before the failure catalog lists
 * older names only; they also match the codes that replaced them (patched(): runs recorded
 * before replay with the list as it was). A current plan already lists both, and no marker
 * is written for it.
 */
function nonRetryable(step: PlanStep): string[] {
  const listed = step.retry.non_retryable;
  const types = nonRetryableTypes(listed);
  return types.length === listed.length || !patched('failure-catalog') ? listed : types;
}

/** `peek`: a read made as a simulation (where a traffic.shift starts) finds the drill's state but leaves none. */
export async function callActivity(step: PlanStep, input: Record<string, unknown>, ctx: Ctx, options: { peek?: boolean } = {}): Promise<Outputs> {
  const activities = proxyActivities<Record<string, (input: ActionInput) => Promise<ActionResult>>>({
    ...siteOptions(step),
    startToCloseTimeout: step.timeout_ms,
    ...(step.heartbeat_timeout_ms ? { heartbeatTimeout: step.heartbeat_timeout_ms } : {}),
    // Compensation must not start while a cancelled change is still in flight.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: step.retry.maximum_attempts,
      initialInterval: step.retry.initial_interval_ms,
      backoffCoefficient: step.retry.backoff,
      ...(step.retry.maximum_interval_ms ? { maximumInterval: step.retry.maximum_interval_ms } : {}),
      nonRetryableErrorTypes: nonRetryable(step),
    },
    summary: `${step.id} (${step.uses})`,
  });
  // A simulated step finds what earlier simulated steps on its resource would have left (patch drill-state).
  const drill = (ctx.drill ??= newDrillStates());
  const carried = carriedFor(step, input, drill);
  const result = await activities[step.uses]!({
    runbook: ctx.plan.name,
    run_id: ctx.runId,
    step: step.id,
    backend: step.backend,
    simulate: step.execution === 'simulate',
    max_attempts: step.retry.maximum_attempts,
    with: input,
    secrets: ctx.plan.secrets,
    ...(ctx.signatures ? { plan_hash: ctx.plan.hash, signature: ctx.signatures[ctx.plan.hash], secret_paths: secretPaths(step.with) } : {}),
    ...(carried?.before ? { drill_state: carried.before } : {}),
  });
  if (!options.peek) recordDrillState(carried, step.id, result.outputs, drill);
  return result;
}

async function runChild(step: PlanStep, input: Record<string, unknown>, ctx: Ctx): Promise<Outputs> {
  const plan = ctx.plan.children[step.child ?? ''];
  if (!plan) throw new StepRejected(`child runbook "${step.child}" is missing from the plan`);
  const workflowId = `${workflowInfo().workflowId}.${step.id}`;
  const status = await executeChild<(input: RunInput) => Promise<RunStatus>>(WORKFLOW_TYPE, {
    workflowId,
    // The parent's starter is the child's: its id extends the parent's, which the statement covers.
    args: [
      {
        plan,
        params: (input.params ?? {}) as RunInput['params'],
        ...(ctx.signatures ? { signatures: ctx.signatures } : {}),
        ...(ctx.startedBy ? { started_by: ctx.startedBy } : {}),
      },
    ],
  });
  const outputs = Object.fromEntries(status.steps.filter((s) => s.outputs).map((s) => [s.id, s.outputs!]));
  return { outputs: { status: status.state, workflow_id: workflowId, outputs }, attempt: 1 };
}

/**
 * Built-in actions run here, not in an activity, so this is where their `with:` is checked
 * once templates are filled in ("5 minutes" must not become a 0 ms sleep). Guarded by
 * patched(): runs recorded before the check replay as they ran.
 */
function checked(step: PlanStep, input: Record<string, unknown>, schema: z.ZodType): Record<string, unknown> {
  if (!patched('validate-builtin-inputs')) return input;
  const result = schema.safeParse(input);
  if (result.success) return result.data as Record<string, unknown>;
  throw new StepRejected(`with: ${result.error.issues.map((i) => `${i.path.join('.') || step.uses}: ${i.message}`).join('; ')}`);
}

const BUILTIN_SCHEMAS: Record<string, z.ZodType> = {
  approval: approval.input,
  sleep: sleepSpec.input,
  runbook: childRunbook.input,
};

/** Runs the work of one step, by the kind of action it uses. */
/** `context`: what `${{ }}` reads at this step (a for_each iteration's item included), for templates a step renders itself (a traffic.shift's checks). */
export async function perform(step: PlanStep, raw: Record<string, unknown>, ctx: Ctx, context?: () => ExpressionContext): Promise<Outputs> {
  if (step.kind === 'activity') return runActivity(step, raw, ctx);
  const input = BUILTIN_SCHEMAS[step.uses] ? checked(step, raw, BUILTIN_SCHEMAS[step.uses]!) : raw;
  switch (step.uses) {
    case 'approval':
      return runApproval(step, input, ctx);
    case 'sleep': {
      const millis = parseDuration(String(input.duration)) ?? 0;
      await sleep(millis);
      return { outputs: { slept_ms: millis }, attempt: 1 };
    }
    case 'runbook':
      return runChild(step, input, ctx);
    case 'traffic.shift':
      return runShift(step, input, ctx, context!);
    default:
      throw new StepRejected(`action "${step.uses}" is not built into this interpreter`);
  }
}
