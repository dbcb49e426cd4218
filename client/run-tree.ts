// A run and the child runs its `uses: runbook` steps started, seen as one list of steps: a child's steps follow its step, their ids prefixed `<child step>.`.
import type { PartialChange } from '../contract/action.ts';
import type { Plan, PlanStep } from '../contract/plan.ts';
import type { RunStatus, StepState } from '../contract/run.ts';

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

/** Every step of the run and its children, in plan order, depth first. */
export function flattenRun(run: RunTree, prefix = ''): FlatStep[] {
  const states = new Map(run.status.steps.map((s) => [s.id, s]));
  return [...run.plan.steps, ...run.plan.on_failure, ...run.plan.finally].flatMap((step) => {
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
  const planSteps = [...run.plan.steps, ...run.plan.on_failure, ...run.plan.finally];
  return {
    plan: { ...run.plan, steps: planSteps.flatMap((s) => [s, ...under(s.id, (c) => c.plan.steps)]), on_failure: [], finally: [] },
    status: { ...run.status, steps: run.status.steps.flatMap((s) => [s, ...under(s.id, (c) => c.status.steps)]) },
  };
}
