import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { evaluateExpression, renderValue, type ExpressionContext } from '../contract/expression.ts';
import { resolveParams } from '../contract/params.ts';
import type { PlanStep } from '../contract/plan.ts';
import { perform, StepRejected, type Ctx } from './perform.ts';
import {
  approveSignal,
  rejectSignal,
  statusQuery,
  type RunInput,
  type RunStatus,
  type StepState,
} from '../contract/run.ts';
import { attemptsOf, describeFailure } from './failure.ts';
import { drillReport } from './report.ts';

const now = (): string => new Date(Date.now()).toISOString();

/**
 * The interpreter: walks a Plan. Deterministic and free of I/O — every side effect is an
 * activity, a timer or a child workflow. Changes to its behaviour must be guarded with
 * `patched()` and covered by the replay tests in test/replay.
 */
export async function runbook(input: RunInput): Promise<RunStatus> {
  const { plan } = input;
  let params: Record<string, string | number | boolean>;
  try {
    params = resolveParams(plan, input.params ?? {});
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidParameters');
  }
  const all = [...plan.steps, ...plan.on_failure, ...plan.finally];
  const states = new Map<string, StepState>(
    all.map((s) => [s.id, { id: s.id, uses: s.uses, phase: s.phase, execution: s.execution, status: 'pending', attempt: 0, continue_on_error: s.continue_on_error }]),
  );
  const status: RunStatus = { runbook: plan.name, plan_hash: plan.hash, mode: plan.mode, state: 'running', started_at: now(), steps: [...states.values()] };
  const ctx: Ctx = { plan, runId: workflowInfo().workflowId, approvals: { decisions: new Map() } };

  setHandler(statusQuery, () => status);
  const decide = (decision: 'approved' | 'rejected') => (d: { step: string; by?: string; reason?: string }) => {
    const state = states.get(d.step);
    // Only the first decision for a waiting approval counts; late or stray ones are ignored.
    if (state?.uses === 'approval' && state.status === 'running' && !ctx.approvals.decisions.has(d.step)) {
      ctx.approvals.decisions.set(d.step, { ...d, decision });
    }
  };
  setHandler(approveSignal, decide('approved'));
  setHandler(rejectSignal, decide('rejected'));

  const context = (): ExpressionContext => ({
    params,
    run: { id: ctx.runId, mode: plan.mode, started_at: status.started_at, runbook: plan.name },
    steps: Object.fromEntries(
      [...states.values()].map((s) => [s.id, { outcome: outcomeOf(s), outputs: s.outputs ?? {} }]),
    ),
  });

  async function runStep(step: PlanStep): Promise<StepState> {
    const state = states.get(step.id)!;
    const finish = (patch: Partial<StepState>): StepState => Object.assign(state, { ended_at: now() }, patch);
    const blocked = step.needs.map((id) => states.get(id)!).find((s) => s.status === 'skipped' || s.status === 'cancelled' || (s.status === 'failed' && !s.continue_on_error));
    if (blocked) return finish({ status: 'skipped', reason: `needs "${blocked.id}", which ${blocked.status === 'failed' ? 'failed' : `was ${blocked.status}`}` });
    if (step.execution === 'skip') return finish({ status: 'skipped', reason: 'skipped in drills (drill: skip)' });
    state.status = 'running';
    state.started_at = now();
    try {
      if (step.if !== undefined && evaluateExpression(step.if, context()) !== true) {
        return finish({ status: 'skipped', reason: `if: ${step.if} is false` });
      }
      const rendered = renderValue(step.with, context()) as Record<string, unknown>;
      const result = await perform(step, rendered, ctx);
      return finish({ status: 'succeeded', outputs: result.outputs, attempt: result.attempt });
    } catch (error) {
      if (isCancellation(error)) return finish({ status: 'cancelled', reason: 'cancelled' });
      const reason = error instanceof StepRejected ? error.message : describeFailure(error);
      return finish({ status: 'failed', reason, attempt: attemptsOf(error) ?? Math.max(state.attempt, 1) });
    }
  }

  /** Runs one phase's steps as a graph; a failing step cancels its running siblings. */
  async function runPhase(steps: PlanStep[]): Promise<StepState | undefined> {
    const scope = new CancellationScope();
    let failed: StepState | undefined;
    await scope.run(async () => {
      const started = new Set<string>();
      const done = new Set<string>();
      const running = new Map<string, Promise<void>>();
      for (;;) {
        if (!failed && !scope.consideredCancelled) {
          for (const step of steps) {
            if (started.has(step.id) || ![...step.needs, ...step.after].every((d) => done.has(d))) continue;
            started.add(step.id);
            running.set(step.id, runStep(step).then((state) => {
              done.add(step.id);
              running.delete(step.id);
              if (state.status === 'failed' && !step.continue_on_error && !failed) {
                failed = state;
                scope.cancel();
              }
            }));
          }
        }
        if (running.size === 0) break;
        await Promise.race(running.values());
      }
    });
    for (const step of steps) {
      const state = states.get(step.id)!;
      if (state.status === 'pending') Object.assign(state, { status: 'skipped', reason: failed ? `not started: step "${failed.id}" failed` : 'not started: the run was cancelled' });
    }
    return failed;
  }

  const failed = await runPhase(plan.steps);
  const cancelled = !failed && CancellationScope.current().consideredCancelled;
  if (failed || cancelled) await CancellationScope.nonCancellable(() => runPhase(plan.on_failure));
  await CancellationScope.nonCancellable(() => runPhase(plan.finally));

  status.ended_at = now();
  status.state = failed ? 'failed' : cancelled ? 'cancelled' : 'succeeded';
  if (failed) status.error = `step "${failed.id}" (${failed.uses}) failed: ${failed.reason}`;
  if (plan.mode === 'drill') status.report = drillReport(plan, status);
  if (failed) throw ApplicationFailure.nonRetryable(status.error!, 'RunbookFailed', status);
  // Rethrowing a cancellation marks the workflow Canceled (not Failed) in Temporal.
  if (cancelled) throw new CancelledFailure('the run was cancelled', [status]);
  return status;
}

function outcomeOf(state: StepState): string {
  switch (state.status) {
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'failure';
    case 'skipped':
    case 'cancelled':
      return state.status;
    default:
      return 'pending';
  }
}
