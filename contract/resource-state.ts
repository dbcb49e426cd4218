// The resource a production step changes and how the states steps report for it combine: drills carry them from step to step, failbacks net them per resource.
import type { ActionSpec } from './action.ts';
import { canonicalJson } from './canonical.ts';

/** Which resource a step changes (its action's `resource` key) and whether its state combines entry by entry. */
export interface Resource {
  key: string;
  byEntry: boolean;
}

/**
 * The resource of a step's evaluated `with:`; undefined when the action names none or the input
 * is not one it can name (a bad input fails in the activity, with a located message, not here).
 */
export function resourceOf(spec: ActionSpec | undefined, input: Record<string, unknown> | undefined): Resource | undefined {
  if (!spec?.resource || !input) return undefined;
  try {
    const key = spec.resource(input);
    return key ? { key, byEntry: spec.state_by_entry?.(input) ?? false } : undefined;
  } catch {
    return undefined;
  }
}

const isMap = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/** The state after `later` on top of `earlier`: entry by entry (each unit's latest), or `later` whole. */
export function laterState(byEntry: boolean, earlier: unknown, later: unknown): unknown {
  return byEntry && isMap(earlier) && isMap(later) ? { ...earlier, ...later } : later;
}

/** The state before `earlier` and `later` both: entry by entry (each unit's first), or `earlier` whole. */
export function earlierState(byEntry: boolean, earlier: unknown, later: unknown): unknown {
  return byEntry && isMap(earlier) && isMap(later) ? { ...later, ...earlier } : earlier;
}

/** Whether two states are the same (key order aside). */
export const sameState = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** What a simulated step receives (ActionInput.drill_state): the state earlier simulated steps of the run would have left, and the last of them. */
export interface DrillState {
  state: unknown;
  /** The step (id) whose simulated change left it. */
  from: string;
}
