// A drill's simulated state per resource (patch drill-state): what earlier simulated steps of the run would have left on it, handed to the next simulated step on the same resource.
import { patched } from '@temporalio/workflow';
import { ACTIONS } from '../contract/actions/registry.ts';
import type { PlanStep } from '../contract/plan.ts';
import { laterState, resourceOf, type DrillState, type Resource } from '../contract/resource-state.ts';

/**
 * One run's simulated states. A simulated step changes nothing, so without these each step's
 * preflight reads today's real state: the last of five shifts would find 100/0 again, an
 * `expect_current` chain would fail, and a DNS return would be "already at the target".
 */
export interface DrillStates {
  /** Resource key → the state the last simulated change on it would leave, and that step. */
  resources: Map<string, DrillState>;
  /** Step id → the step whose simulated state it was handed (the drill report's "before" source). */
  carriedFrom: Map<string, string>;
}

/** What one simulated call is about: its resource, and the state earlier steps would have left there (none: the real one). */
export interface Carried {
  resource: Resource;
  before?: DrillState;
}

export const newDrillStates = (): DrillStates => ({ resources: new Map(), carriedFrom: new Map() });

/**
 * The state to hand a simulated step's activity (ActionInput.drill_state). Nothing for a step
 * that really runs, an action that names no resource, or a run recorded before drill-state.
 */
export function carriedFor(step: PlanStep, input: Record<string, unknown>, states: DrillStates): Carried | undefined {
  if (step.execution !== 'simulate' || !patched('drill-state')) return undefined;
  const resource = resourceOf(ACTIONS.get(step.uses), input);
  if (!resource) return undefined;
  const before = states.resources.get(resource.key);
  // A step of several calls (a traffic shift's switches) carries from what was there before its first, never from itself.
  if (before && before.from !== step.id && !states.carriedFrom.has(step.id)) states.carriedFrom.set(step.id, before.from);
  return { resource, ...(before ? { before } : {}) };
}

/** After a simulated call: its `current` is what the next simulated step on that resource finds. */
export function recordDrillState(carried: Carried | undefined, step: string, outputs: Record<string, unknown>, states: DrillStates): void {
  if (!carried || !('current' in outputs)) return;
  // What is there now, not what this step was handed: a parallel step may have left its state since.
  const state = laterState(carried.resource.byEntry, states.resources.get(carried.resource.key)?.state, outputs.current);
  states.resources.set(carried.resource.key, { state, from: step });
}
