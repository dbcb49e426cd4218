// Runs a Plan's phases: each step after its needs, in parallel where the graph allows.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { evaluateExpression, renderValue, type ExpressionContext } from '../contract/expression.ts';
import type { PlanStep } from '../contract/plan.ts';
import type { Trigger } from '../contract/trigger.ts';
import type { RunStatus, StepState } from '../contract/run.ts';
import { perform, StepRejected, type Ctx } from './perform.ts';
import { attemptsOf, describeFailure, workerOf } from './failure.ts';
import { runLoop, runsLoops, withLoops, type Loop } from './for-each.ts';

const now = (): string => new Date(Date.now()).toISOString();

/** One run's state, shared by its phases; the status query reads it. */
export interface Run {
  ctx: Ctx;
  params: Record<string, string | number | boolean>;
  states: Map<string, StepState>;
  status: RunStatus;
  /** How the run started: `trigger.*` in expressions (workflows/trigger.ts). */
  trigger?: Trigger;
  /** Inside a for_each iteration (workflows/for-each.ts): its item and index. */
  loop?: Loop;
}

/** What `${{ }}` reads at this point of the run. */
export function expressionContext(run: Run): ExpressionContext {
  const { ctx, params, status, states } = run;
  return withLoops(run, {
    params,
    run: { id: ctx.runId, mode: ctx.plan.mode, started_at: status.started_at, runbook: ctx.plan.name },
    trigger: run.trigger ?? { kind: 'manual', manual: {} },
    steps: Object.fromEntries([...states.values()].map((s) => [s.id, { outcome: outcomeOf(s), outputs: s.outputs ?? {} }])),
  });
}

async function runStep(run: Run, step: PlanStep): Promise<StepState> {
  const { states } = run;
  const state = states.get(step.id)!;
  const finish = (patch: Partial<StepState>): StepState => Object.assign(state, { ended_at: now() }, patch);
  const blocked = step.needs
    .map((id) => states.get(id)!)
    .find((s) => s.status === 'skipped' || s.status === 'cancelled' || (s.status === 'failed' && !s.continue_on_error));
  if (blocked) return finish({ status: 'skipped', reason: `needs "${blocked.id}", which ${blocked.status === 'failed' ? 'failed' : `was ${blocked.status}`}` });
  if (step.execution === 'skip') return finish({ status: 'skipped', reason: 'skipped in drills (drill: skip)' });
  if (runsLoops(step)) return runLoop(run, step, state);
  state.status = 'running';
  state.started_at = now();
  try {
    if (step.if !== undefined && evaluateExpression(step.if, expressionContext(run)) !== true) {
      return finish({ status: 'skipped', reason: `if: ${step.if} is false` });
    }
    const rendered = renderValue(step.with, expressionContext(run)) as Record<string, unknown>;
    const result = await perform(step, rendered, run.ctx, () => expressionContext(run));
    const ran = result.worker ? { worker: result.worker, ...(result.task_queue ? { task_queue: result.task_queue } : {}) } : {};
    return finish({ status: 'succeeded', outputs: result.outputs, attempt: result.attempt, ...ran });
  } catch (error) {
    if (isCancellation(error)) return finish({ status: 'cancelled', reason: 'cancelled' });
    const reason = error instanceof StepRejected ? error.message : describeFailure(error);
    const worker = workerOf(error);
    const failed = finish({ status: 'failed', reason, attempt: attemptsOf(error) ?? Math.max(state.attempt, 1), ...(worker ? { worker } : {}) });
    // A step allowed to fail (a probe of the primary) is not news.
    if (!step.continue_on_error) run.ctx.notify?.('step_failed', { step: step.id, reason });
    return failed;
  }
}

/** Runs one phase's steps as a graph; a failing step cancels its running siblings. */
export async function runPhase(run: Run, steps: PlanStep[]): Promise<StepState | undefined> {
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
          running.set(
            step.id,
            runStep(run, step).then((state) => {
              done.add(step.id);
              running.delete(step.id);
              if (state.status === 'failed' && !step.continue_on_error && !failed) {
                failed = state;
                scope.cancel();
              }
            }),
          );
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  });
  for (const step of steps) {
    const state = run.states.get(step.id)!;
    if (state.status === 'pending')
      Object.assign(state, { status: 'skipped', reason: failed ? `not started: step "${failed.id}" failed` : 'not started: the run was cancelled' });
  }
  return failed;
}

export function outcomeOf(state: StepState): string {
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
