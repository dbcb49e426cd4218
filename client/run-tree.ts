// A run and the child runs its `uses: runbook` steps started, seen as one list of steps: a child's steps follow its step, their ids prefixed `<child step>.`.
import type { PartialChange } from '../contract/action.ts';
import type { Plan, PlanStep } from '../contract/plan.ts';
import type { RunStatus, StepState } from '../contract/run.ts';
import { iterationSteps } from '../contract/for-each.ts';

/** What a run left on record that matters here; `children` by the id of the step that started each. */
export interface RunTree {
  plan: Plan;
  status: RunStatus;
  inputs?: Record<string, Record<string, unknown>>;
  /** What each failed or cancelled activity step recorded it may have changed (its failure details' `partial`). */
  partial?: Record<string, PartialChange>;
  children?: Record<string, RunTree>;
}

export interface FlatStep {
  /** The step's id, prefixed by the child steps it ran under (`failover.switch-dns`). */
  id: string;
  step: PlanStep;
  state?: StepState;
  /** Its `with:` as the workflow evaluated it (activity steps). */
  input?: Record<string, unknown>;
  /** A failed or cancelled step's own account of what it may have changed. */
  partial?: PartialChange;
  /** The plan it belongs to (its secrets and sites). */
  plan: Plan;
}

/** A for_each step is the steps it ran, one per item (a group's, each of its steps per item); it changed nothing itself. */
function ranSteps(step: PlanStep, status: RunStatus): PlanStep[] {
  if (!step.for_each) return [step];
  const ids = status.steps.map((s) => s.id);
  const named = new Map(status.steps.map((s) => [s.id, s.name]));
  return iterationSteps(step, ids).map((s) => (named.get(s.id) ? { ...s, name: named.get(s.id)! } : s));
}

/** Every step of the run and its children, in plan order, depth first; a for_each step by the steps it ran. */
export function flattenRun(run: RunTree, prefix = ''): FlatStep[] {
  const states = new Map(run.status.steps.map((s) => [s.id, s]));
  return [...run.plan.steps, ...run.plan.on_failure, ...run.plan.finally]
    .flatMap((loop) => ranSteps(loop, run.status))
    .flatMap((step) => {
      const state = states.get(step.id);
      const own: FlatStep = {
        id: `${prefix}${step.id}`,
        step,
        ...(state ? { state } : {}),
        ...(run.inputs?.[step.id] ? { input: run.inputs[step.id] } : {}),
        ...(run.partial?.[step.id] ? { partial: run.partial[step.id] } : {}),
        plan: run.plan,
      };
      const child = run.children?.[step.id];
      return child ? [own, ...flattenRun(child, `${prefix}${step.id}.`)] : [own];
    });
}

/** The run as one plan and status, its children's steps after the step that ran each, under prefixed ids (what a report measures). */
export function flatRun(run: Pick<RunTree, 'plan' | 'status' | 'children'>): { plan: Plan; status: RunStatus } {
  const children = Object.fromEntries(Object.entries(run.children ?? {}).map(([id, child]) => [id, flatRun(child)]));
  const under = <T extends { id: string }>(id: string, items: (flat: { plan: Plan; status: RunStatus }) => T[]): T[] =>
    children[id] ? items(children[id]).map((item) => ({ ...item, id: `${id}.${item.id}` })) : [];
  // A for_each step stays (its timeline bar spans its iterations) but as a read: the steps it ran made its changes.
  const planSteps = [...run.plan.steps, ...run.plan.on_failure, ...run.plan.finally].flatMap((s) =>
    s.for_each ? [{ ...s, impact: 'read' as const }, ...ranSteps(s, run.status)] : [s],
  );
  return {
    plan: { ...run.plan, steps: planSteps.flatMap((s) => [s, ...under(s.id, (c) => c.plan.steps)]), on_failure: [], finally: [] },
    status: { ...run.status, steps: run.status.steps.flatMap((s) => [s, ...under(s.id, (c) => c.status.steps)]) },
  };
}
