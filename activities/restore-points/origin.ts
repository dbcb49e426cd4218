// Which run and step took a restore point: the fields every kind's manifest records of its origin.

/** Which run and step took a point, and the set it belongs to (the run, unless the step names one). */
export function stepOrigin(input: { set_id?: string }, ctx: { runId: string; step: string }) {
  return { set_id: input.set_id ?? ctx.runId, run_id: ctx.runId, step: ctx.step };
}
