// The traffic.shift step in the interpreter: weights set step by step, a durable pause and the analysis after each, and a rollback when a check fails.
import { sleep } from '@temporalio/workflow';
import { sameWeights, trafficShiftInput, type TrafficShiftInput, type Weights } from '../contract/actions/traffic.ts';
import { parseDuration } from '../contract/duration.ts';
import { renderValue, secretPaths, type ExpressionContext } from '../contract/expression.ts';
import type { PlanStep } from '../contract/plan.ts';
import { describeFailure } from './failure.ts';
import { callActivity, StepRejected, type Ctx, type Outputs } from './perform.ts';
import { shiftTarget, weightsOfStep, type ShiftTarget } from './shift-targets.ts';

/** A shift's switches heartbeat like any activity step (the compiler gives built-ins no heartbeat timeout). */
const SWITCH_HEARTBEAT_MS = 30_000;

interface Progress {
  provider: TrafficShiftInput['provider'];
  from: string;
  to: string;
  previous: Weights;
  current: Weights;
  outcome: 'completed' | 'rolled_back' | 'held' | 'running';
  reached: number;
  sets: { step: number; weights: Weights; at: string }[];
  analyses: { step: number; check: string; outcome: 'passed' | 'failed'; reason?: string }[];
  changed: boolean;
  simulated: boolean;
  preflight?: string[];
}

const now = () => new Date(Date.now()).toISOString();
const show = (w: Weights) =>
  Object.entries(w)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/**
 * Runs one set of weights as the shift's switches. They carry the shift's step id, so the
 * run's record (and its failback) sees them as the shift's work; each is guarded by the
 * weights the previous one left, so a change someone else made stops the shift.
 */
async function setWeights(step: PlanStep, target: ShiftTarget, weights: Weights, guard: Weights | undefined, ctx: Ctx, read = false) {
  const outputs: Record<string, unknown>[] = [];
  for (const call of target.calls(weights, guard)) {
    const derived: PlanStep = {
      ...step,
      uses: call.uses,
      kind: 'activity',
      backend: call.backend,
      with: call.template,
      heartbeat_timeout_ms: step.heartbeat_timeout_ms ?? SWITCH_HEARTBEAT_MS,
      execution: read ? 'simulate' : step.execution,
    };
    delete derived.analysis;
    outputs.push((await callActivity(derived, call.input, ctx, { peek: read })).outputs);
  }
  return outputs;
}

/** Runs a step's analysis checks in order; the first that fails (after its own retries) is the verdict. */
async function analyse(step: PlanStep, index: number, progress: Progress, ctx: Ctx, context: () => ExpressionContext): Promise<string | undefined> {
  for (const check of step.analysis ?? []) {
    try {
      const input = renderValue(check.with, context()) as Record<string, unknown>;
      await callActivity(check, input, ctx);
      progress.analyses.push({ step: index, check: check.id, outcome: 'passed' });
    } catch (error) {
      const reason = describeFailure(error);
      progress.analyses.push({ step: index, check: check.id, outcome: 'failed', reason });
      return `analysis "${check.id}" (${check.uses}) failed after step ${index}: ${reason}`;
    }
  }
  return undefined;
}

/** Reads where the weights stand (a simulated switch to the first step) and refuses a start that cannot shift. */
async function start(step: PlanStep, shift: TrafficShiftInput, target: ShiftTarget, ctx: Ctx): Promise<{ start: Weights; preflight: string[] }> {
  const read = await setWeights(step, target, weightsOfStep(shift, shift.steps[0]!), undefined, ctx, true);
  const start = target.weightsOf(read, 'previous');
  const refused = target.refuse(read);
  if (refused) throw new StepRejected(refused);
  if (shift.expect_current && !sameWeights(start, shift.expect_current)) {
    throw new StepRejected(`expect_current does not hold: expected ${show(shift.expect_current)}, found ${show(start)}; nothing was changed`);
  }
  return { start, preflight: read.flatMap((o) => (o.preflight as string[] | undefined) ?? []).filter((line) => !line.startsWith('would set')) };
}

/**
 * Checks `with:` once its templates are filled in. Its credentials are still secret references
 * (resolved only on the worker, by the switches): checked as placeholders, then put back.
 */
function parseShift(input: Record<string, unknown>): TrafficShiftInput {
  const paths = secretPaths(input);
  // The workflow sandbox has no structuredClone; the input is plain JSON.
  const placeholders = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  for (const path of paths) setAt(placeholders, path, 'secret');
  const result = trafficShiftInput.safeParse(placeholders);
  if (!result.success) throw new StepRejected(`with: ${result.error.issues.map((i) => `${i.path.join('.') || 'traffic.shift'}: ${i.message}`).join('; ')}`);
  for (const path of paths) setAt(result.data as Record<string, unknown>, path, getAt(input, path));
  return result.data;
}

const getAt = (value: unknown, path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
function setAt(value: Record<string, unknown>, path: (string | number)[], to: unknown): void {
  const parent = getAt(value, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = to;
}

export async function runShift(step: PlanStep, input: Record<string, unknown>, ctx: Ctx, context: () => ExpressionContext): Promise<Outputs> {
  const shift = parseShift(input);
  const target = shiftTarget(step, shift);
  const simulated = step.execution === 'simulate';
  const begun = await start(step, shift, target, ctx);
  const progress: Progress = {
    provider: shift.provider,
    from: shift.from,
    to: shift.to,
    previous: begun.start,
    current: begun.start,
    outcome: 'running',
    reached: 0,
    sets: [],
    analyses: [],
    changed: false,
    simulated,
    ...(simulated ? { preflight: begun.preflight } : {}),
  };
  const report = () => ctx.progress?.(step.id, { ...progress });
  const set = async (index: number, weights: Weights) => {
    const outputs = await setWeights(step, target, weights, progress.current, ctx);
    progress.current = target.weightsOf(outputs, 'current');
    progress.changed ||= outputs.some((o) => o.changed === true);
    progress.sets.push({ step: index, weights: progress.current, at: now() });
    if (simulated) progress.preflight!.push(`step ${index || 'rollback'}: ${show(progress.current)}`);
    report();
  };
  const pauseMs = parseDuration(shift.pause) ?? 0;
  for (const [i, wanted] of shift.steps.entries()) {
    await set(i + 1, weightsOfStep(shift, wanted));
    if (pauseMs > 0) await sleep(pauseMs);
    const failed = await analyse(step, i + 1, progress, ctx, context);
    if (failed) {
      if (shift.on_analysis_failure === 'rollback') await set(0, progress.previous);
      progress.outcome = shift.on_analysis_failure === 'rollback' ? 'rolled_back' : 'held';
      report();
      const after = progress.outcome === 'rolled_back' ? `rolled back to ${show(progress.previous)}` : `held at ${show(progress.current)}`;
      throw new StepRejected(`${failed}; ${after}`);
    }
    progress.reached = i + 1;
    report();
  }
  progress.outcome = 'completed';
  return { outputs: { ...progress }, attempt: 1 };
}
