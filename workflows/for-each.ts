// Runs a for_each step (patch for-each): its items evaluated as it starts, one iteration per item (`<id>[i]`, a group's steps `<id>[i].<step>`), in order or `parallel` at once; a failed iteration fails the step and cancels the rest.
import { CancellationScope, patched } from '@temporalio/workflow';
import { evaluateExpression, renderValue, type ExpressionContext, type IterationResult, type StepResult } from '../contract/expression.ts';
import { iterationId, MAX_ITERATIONS } from '../contract/for-each.ts';
import type { PlanStep } from '../contract/plan.ts';
import type { StepState } from '../contract/run.ts';
import { describeFailure } from './failure.ts';
import { expressionContext, outcomeOf, runPhase, type Run } from './phases.ts';

const now = (): string => new Date(Date.now()).toISOString();

/** Where an expression sits inside a loop: the iteration's item and index, and for a group the prefix of its steps' ids. */
export interface Loop {
  item: unknown;
  index: number;
  /** A group iteration's `<id>[i].`, under which its steps' states are; with their bare ids. */
  prefix?: string;
  children?: string[];
}

/** Runs recorded before for-each (by a worker that did not know loops) ran a for_each step once, as a plain step. */
export function runsLoops(step: PlanStep): boolean {
  return step.for_each !== undefined && patched('for-each');
}

/** The list the step runs over, or why there is none. */
function itemsOf(step: PlanStep, context: ExpressionContext): unknown[] | string {
  let items: unknown;
  try {
    items = renderValue(step.for_each!.items, context);
  } catch (error) {
    return `for_each: ${describeFailure(error)}`;
  }
  if (!Array.isArray(items)) return `for_each: ${JSON.stringify(step.for_each!.items)} gave ${JSON.stringify(items) ?? 'nothing'}, not a list`;
  if (items.length > MAX_ITERATIONS) return `for_each: ${items.length} items; a for_each runs at most ${MAX_ITERATIONS}`;
  return items;
}

/** A name with item and index filled in; the name as written if it cannot be. */
function nameOf(name: string | undefined, run: Run): { name?: string } {
  if (name === undefined) return {};
  try {
    return { name: String(renderValue(name, expressionContext(run))) };
  } catch {
    return { name };
  }
}

function pending(id: string, step: PlanStep, run: Run): StepState {
  return {
    id,
    uses: step.uses,
    phase: step.phase,
    execution: step.execution,
    status: 'pending',
    attempt: 0,
    continue_on_error: step.continue_on_error,
    ...nameOf(step.name, run),
  };
}

/** Each iteration's states (a group's steps after theirs), placed in status right after the loop's own. */
function addIterations(run: Run, step: PlanStep, state: StepState, items: unknown[]): void {
  const added = items.flatMap((item, index) => {
    const id = iterationId(step.id, index);
    const at: Run = { ...run, loop: { item, index } };
    return [pending(id, step, at), ...(step.for_each!.steps ?? []).map((child) => pending(iterationId(step.id, index, child.id), child, at))];
  });
  for (const s of added) run.states.set(s.id, s);
  run.status.steps.splice(run.status.steps.indexOf(state) + 1, 0, ...added);
}

/** A group's iteration: its steps as a phase of their own, under ids `<id>[i].<step>`, reading each other by their bare ids. */
async function runGroup(run: Run, step: PlanStep, own: StepState): Promise<void> {
  const prefix = `${own.id}.`;
  const children = step.for_each!.steps!;
  const at: Run = { ...run, loop: { ...run.loop!, prefix, children: children.map((c) => c.id) } };
  const finish = (patch: Partial<StepState>) => Object.assign(own, { ended_at: now() }, patch);
  Object.assign(own, { status: 'running', started_at: now(), attempt: 1 });
  try {
    if (step.if !== undefined && evaluateExpression(step.if, expressionContext(at)) !== true) {
      for (const c of children) Object.assign(run.states.get(prefix + c.id)!, { status: 'skipped', reason: `the group's if: ${step.if} is false` });
      return void finish({ status: 'skipped', reason: `if: ${step.if} is false` });
    }
  } catch (error) {
    return void finish({ status: 'failed', reason: `if: ${describeFailure(error)}` });
  }
  const under = (id: string) => prefix + id;
  const failed = await runPhase(
    at,
    children.map((c) => ({ ...c, id: under(c.id), needs: c.needs.map(under), after: c.after.map(under) })),
  );
  const cancelled = children.some((c) => run.states.get(under(c.id))!.status === 'cancelled');
  if (failed) finish({ status: 'failed', reason: `step "${failed.id}" failed: ${failed.reason}` });
  else finish(cancelled ? { status: 'cancelled', reason: 'cancelled' } : { status: 'succeeded' });
}

/** One iteration: the loop's own action (its `if:` and `with:` reading item and index), or its group. */
async function runIteration(run: Run, step: PlanStep, item: unknown, index: number): Promise<StepState> {
  const id = iterationId(step.id, index);
  const at: Run = { ...run, loop: { item, index } };
  if (step.for_each!.steps) await runGroup(at, step, run.states.get(id)!);
  else {
    const { for_each: _loop, ...action } = step;
    await runPhase(at, [{ ...action, id, needs: [], after: [] }]);
  }
  return run.states.get(id)!;
}

/** Up to `parallel` iterations at a time, in item order; one that fails (unless allowed to) cancels those running and starts no more. */
async function runIterations(run: Run, step: PlanStep, items: unknown[]): Promise<StepState | undefined> {
  const scope = new CancellationScope();
  let failed: StepState | undefined;
  await scope.run(async () => {
    const running = new Map<number, Promise<void>>();
    let next = 0;
    for (;;) {
      while (!failed && !scope.consideredCancelled && running.size < step.for_each!.parallel && next < items.length) {
        const index = next++;
        const done = runIteration(run, step, items[index], index).then((state) => {
          running.delete(index);
          if (state.status === 'failed' && !step.continue_on_error && !failed) {
            failed = state;
            scope.cancel();
          }
        });
        running.set(index, done);
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  });
  return failed;
}

/** The loop's own state from its iterations': failed if one failed, cancelled if one was, skipped if all were. */
function outcome(run: Run, step: PlanStep, count: number, failed: StepState | undefined): Partial<StepState> {
  const ids = Array.from({ length: count }, (_, i) => iterationId(step.id, i));
  const states = ids.map((id) => run.states.get(id)!);
  const why = failed ? `not started: iteration ${failed.id} failed` : 'not started: the run was cancelled';
  for (const s of run.status.steps)
    if (s.status === 'pending' && ids.some((id) => s.id === id || s.id.startsWith(`${id}.`))) Object.assign(s, { status: 'skipped', reason: why });
  const failure = failed ?? states.find((s) => s.status === 'failed');
  if (failure) return { status: 'failed', reason: `${failure.id}: ${failure.reason}` };
  if (states.some((s) => s.status === 'cancelled') || CancellationScope.current().consideredCancelled) return { status: 'cancelled', reason: 'cancelled' };
  if (count && states.every((s) => s.status === 'skipped')) return { status: 'skipped', reason: 'every iteration was skipped' };
  return { status: 'succeeded' };
}

/** Runs a for_each step; its state ends as its iterations did, with the items it ran over in its outputs. */
export async function runLoop(run: Run, step: PlanStep, state: StepState): Promise<StepState> {
  Object.assign(state, { status: 'running', started_at: now(), attempt: 1 });
  const items = itemsOf(step, expressionContext(run));
  if (typeof items === 'string') {
    if (!step.continue_on_error) run.ctx.notify?.('step_failed', { step: step.id, reason: items });
    return Object.assign(state, { status: 'failed', reason: items, ended_at: now() });
  }
  Object.assign(state, { iterations: items.length, outputs: { items } });
  addIterations(run, step, state, items);
  const failed = await runIterations(run, step, items);
  return Object.assign(state, outcome(run, step, items.length, failed), { ended_at: now() });
}

/** What `steps.x` reads of a for_each step: the list of its iterations' results (a group's with its steps'). */
function iterations(run: Run, step: PlanStep): IterationResult[] {
  const state = run.states.get(step.id);
  const items = (state?.outputs?.items ?? []) as unknown[];
  return Array.from({ length: state?.iterations ?? 0 }, (_, index) => {
    const own = run.states.get(iterationId(step.id, index));
    const children = step.for_each!.steps?.map((c) => [c.id, resultOf(run.states.get(iterationId(step.id, index, c.id)))] as const);
    return {
      outcome: own ? outcomeOf(own) : 'pending',
      item: items[index],
      index,
      ...(children ? { steps: Object.fromEntries(children) } : { outputs: own?.outputs ?? {} }),
    };
  });
}

function resultOf(state: StepState | undefined): StepResult {
  return { outcome: state ? outcomeOf(state) : 'pending', outputs: state?.outputs ?? {} };
}

/**
 * The expression context with loops in it: `steps.x` of a for_each step is its iterations' list,
 * iteration ids are not names of their own, and inside an iteration `item`, `index` and (in a
 * group) its sibling steps by their bare ids. Plans without loops read exactly what they did.
 */
export function withLoops(run: Run, context: ExpressionContext): ExpressionContext {
  const { plan } = run.ctx;
  const loops = [...plan.steps, ...plan.on_failure, ...plan.finally].filter((s) => s.for_each);
  if (!loops.length || !patched('for-each')) return context;
  const steps = Object.fromEntries(Object.entries(context.steps).filter(([id]) => !id.includes('[')));
  for (const loop of loops) steps[loop.id] = iterations(run, loop);
  const { loop } = run;
  for (const child of loop?.children ?? []) steps[child] = resultOf(run.states.get(loop!.prefix! + child));
  return { ...context, steps, ...(loop ? { item: loop.item, index: loop.index } : {}) };
}
