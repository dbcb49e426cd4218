// for_each loops' shared names: the limits, iteration ids (`shift[2]`, `shift[2].set`) and the plan steps a loop's iterations ran.
import type { PlanStep } from './plan.ts';

/** The most iterations a for_each runs at once (`parallel:`). */
export const MAX_PARALLEL = 20;
/** The most items a for_each takes: each iteration adds events to the run's history, which Temporal bounds. */
export const MAX_ITERATIONS = 500;
/** The `uses` of a for_each group: a step that runs its `steps:` once per item rather than an action. */
export const GROUP_USES = 'group';

/** The status id of a loop's iteration, or of a group child in it: `shift[2]`, `shift[2].set`. */
export function iterationId(loop: string, index: number, child?: string): string {
  return `${loop}[${index}]${child === undefined ? '' : `.${child}`}`;
}

export interface IterationRef {
  loop: string;
  index: number;
  /** A group child's id, for `shift[2].set`. */
  child?: string;
}

const ITERATION = /^([^[\].]+)\[(\d+)\](?:\.([^[\].]+))?$/;

/** What an iteration id names, or undefined for an ordinary step id. */
export function parseIterationId(id: string): IterationRef | undefined {
  const match = ITERATION.exec(id);
  if (!match) return undefined;
  return { loop: match[1]!, index: Number(match[2]), ...(match[3] !== undefined ? { child: match[3] } : {}) };
}

/**
 * The steps a for_each step ran, as plan steps under their status ids (`shift[2]`, a group's
 * `shift[2].set`), in status order: what a failback undoes and a report lists, step by step.
 * `ids` are the run's status ids; a group's own iterations (`shift[2]`) ran no action and are left out.
 */
export function iterationSteps(loop: PlanStep, ids: readonly string[]): PlanStep[] {
  if (!loop.for_each) return [];
  const { for_each: _loop, ...action } = loop;
  return ids.flatMap((id): PlanStep[] => {
    const ref = parseIterationId(id);
    if (ref?.loop !== loop.id) return [];
    if (ref.child === undefined) return loop.for_each!.steps ? [] : [{ ...action, id, needs: [], after: [] }];
    const child = loop.for_each!.steps?.find((c) => c.id === ref.child);
    const under = (c: string) => iterationId(loop.id, ref.index, c);
    return child ? [{ ...child, id, needs: child.needs.map(under), after: child.after.map(under) }] : [];
  });
}
