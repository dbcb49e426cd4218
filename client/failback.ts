// Builds a failback Plan from what a run actually changed: its succeeded production steps, newest first, each reverted or handed to a person.
import { ACTIONS } from '../contract/actions/registry.ts';
import type { Mode, Plan, PlanStep } from '../contract/plan.ts';
import type { StepState } from '../contract/run.ts';
import { hashPlan } from '../compiler/index.ts';
import type { RunRecord } from './record.ts';

export interface FailbackOptions {
  mode: Mode;
  /** Drop the `expect_current` guards: overwrite whatever the targets hold now. */
  force?: boolean;
}

/** One production change of the run and what the failback does about it. */
export interface FailbackItem {
  step: string;
  uses: string;
  ended_at?: string;
  /** revert: a step puts it back; manual: a person must, behind an approval; unchanged: the step changed nothing. */
  action: 'revert' | 'manual' | 'unchanged';
  /** The failback step that handles it (revert and manual). */
  failback_step?: string;
  detail: string;
}

export interface Failback {
  plan: Plan;
  items: FailbackItem[];
}

/** The run cannot be failed back (still running, a drill, not found): a usage problem, not a crash. */
export class FailbackError extends Error {}

/** How long a manual-work approval waits before the failback stops (rejected). */
const MANUAL_TIMEOUT = '4h';

type Record_ = Pick<RunRecord, 'workflowId' | 'plan' | 'status' | 'inputs'>;

/** Succeeded production steps that ran for real, newest first (by end time, then by plan order reversed). */
function changes(record: Record_): Array<{ step: PlanStep; state: StepState }> {
  const { plan, status } = record;
  const order = [...plan.steps, ...plan.on_failure, ...plan.finally];
  const states = new Map(status.steps.map((s) => [s.id, s]));
  return order
    .map((step, index) => ({ step, index, state: states.get(step.id) }))
    .filter((c): c is { step: PlanStep; index: number; state: StepState } => {
      return c.step.impact === 'production' && c.step.execution === 'run' && c.state?.status === 'succeeded';
    })
    .sort((a, b) => (Date.parse(b.state.ended_at ?? '') || 0) - (Date.parse(a.state.ended_at ?? '') || 0) || b.index - a.index)
    .map(({ step, state }) => ({ step, state }));
}

/** A step's evaluated input, shortened for a message; secrets are references there, never values. */
function describeInput(input: Record<string, unknown> | undefined): string {
  const text = JSON.stringify(input ?? {});
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function revertStep(original: PlanStep, input: Record<string, unknown>, options: FailbackOptions, needs: string[]): PlanStep {
  const spec = ACTIONS.get(original.uses);
  const { expect_current: guard, ...unguarded } = input;
  const simulate = spec?.simulates ? 'simulate' : 'skip';
  // The original's `if:` was about the failover; the failback always reverts what it did.
  const { if: _condition, ...rest } = original;
  return {
    ...rest,
    id: `revert-${original.id}`,
    name: `revert ${original.id} (${original.uses})`,
    phase: 'main',
    with: options.force || guard === undefined ? unguarded : { ...unguarded, expect_current: guard },
    needs,
    after: [],
    continue_on_error: false,
    execution: options.mode === 'drill' ? simulate : 'run',
  };
}

function manualStep(original: PlanStep, input: Record<string, unknown> | undefined, options: FailbackOptions, needs: string[]): PlanStep {
  const message = `undo "${original.id}" (${original.uses}) by hand — it changed ${describeInput(input)} and cannot be reverted automatically`;
  // In a drill nothing is undone, so nobody needs to approve: the work is logged instead.
  const drill = options.mode === 'drill';
  return {
    id: `manual-${original.id}`,
    name: `manual failback of ${original.id}`,
    uses: drill ? 'log' : 'approval',
    kind: drill ? 'activity' : 'workflow',
    backend: drill ? 'log' : 'approval',
    impact: 'read',
    phase: 'main',
    with: drill ? { level: 'warn', message } : { message: `${message}; approve once done`, timeout: MANUAL_TIMEOUT, on_timeout: 'reject' },
    needs,
    after: [],
    retry: original.retry,
    timeout_ms: original.timeout_ms,
    ...(drill ? { heartbeat_timeout_ms: original.heartbeat_timeout_ms ?? 30_000 } : {}),
    continue_on_error: false,
    execution: 'run',
    line: original.line,
    col: original.col,
  };
}

/** The failback's steps and what each change of the run becomes; each step needs the one before, so a conflict stops the rest. */
function failbackSteps(record: Record_, options: FailbackOptions): { steps: PlanStep[]; items: FailbackItem[] } {
  const steps: PlanStep[] = [];
  const items: FailbackItem[] = [];
  for (const { step, state } of changes(record)) {
    const base = { step: step.id, uses: step.uses, ...(state.ended_at ? { ended_at: state.ended_at } : {}) };
    const outputs = state.outputs ?? {};
    if (outputs.changed === false) {
      items.push({ ...base, action: 'unchanged', detail: 'the step found its target already in place and changed nothing' });
      continue;
    }
    const input = record.inputs[step.id];
    const reverted = input ? ACTIONS.get(step.uses)?.revert?.(input, outputs) : undefined;
    const needs = steps.length ? [steps.at(-1)!.id] : [];
    const next = reverted ? revertStep(step, reverted, options, needs) : manualStep(step, input, options, needs);
    steps.push(next);
    const detail = reverted
      ? `back to the recorded previous state${options.force ? ' (--force: unguarded)' : ', guarded by the state the run set'}`
      : ACTIONS.get(step.uses)?.revert
        ? 'its outputs say nothing to put back automatically (e.g. a record it created)'
        : `${step.uses} cannot revert; a person undoes it behind an approval`;
    items.push({ ...base, action: reverted ? 'revert' : 'manual', failback_step: next.id, detail });
  }
  return { steps, items };
}

/**
 * The failback of a finished run: what it changed, undone newest first. The result is an
 * ordinary Plan — run like any other, durable and visible in `status`.
 */
export function buildFailback(record: Record_, options: FailbackOptions): Failback {
  const { plan, status, workflowId } = record;
  if (status.state === 'running') throw new FailbackError(`${workflowId} is still running; fail back once it has finished (or cancel it)`);
  if (plan.mode === 'drill') throw new FailbackError(`${workflowId} was a drill: it changed nothing, so there is nothing to fail back`);
  const { steps, items } = failbackSteps(record, options);
  const body: Omit<Plan, 'hash'> = {
    version: plan.version,
    name: `${plan.name}-failback`,
    description: `Failback of ${workflowId}: what it changed, reverted newest first`,
    labels: { ...plan.labels, failback_of: workflowId },
    source: `failback of ${workflowId} (${plan.source})`,
    mode: options.mode,
    objectives: {},
    parameters: {},
    secrets: plan.secrets,
    triggers: { manual: true },
    ...(plan.sites ? { sites: plan.sites } : {}),
    steps,
    on_failure: [],
    finally: [],
    children: {},
  };
  return { plan: { ...body, hash: hashPlan(body) }, items };
}

/** The lines `rebound plan --failback` prints above the plan: every change and what becomes of it. */
export function describeFailback(failback: Failback, workflowId: string): string {
  if (!failback.items.length) return `${workflowId} made no production change: nothing to fail back`;
  const lines = [`${workflowId} changed, newest first:`];
  for (const item of failback.items) {
    const by = item.failback_step ? ` → ${item.failback_step}` : '';
    lines.push(`  ${item.step} (${item.uses}${item.ended_at ? `, ${item.ended_at}` : ''}): ${item.action}${by} — ${item.detail}`);
  }
  return lines.join('\n');
}
