// Orders one phase's steps: explicit `needs`, else the step above; unknown needs and cycles are errors.
import { CompileError } from './errors.ts';
import { findCycle } from './graph.ts';
import type { ParsedStep, StepContext } from './step-context.ts';
import { didYouMean } from './suggest.ts';

export interface StepOrder {
  /** Ids of this phase's steps. */
  local: ReadonlySet<string>;
  /** What each step waits for and depends on (`needs`, or the step above). */
  edges: ReadonlyMap<string, string[]>;
  /** Order-only edges: the step above, when a step names no `needs`. */
  after: ReadonlyMap<string, string[]>;
  cycle?: string[];
}

export function orderSteps(parsed: ParsedStep[], allIds: ReadonlySet<string>, ctx: StepContext): StepOrder {
  const local = new Set(parsed.map((p) => p.doc.id));
  const edges = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  parsed.forEach(({ doc, path }, i) => {
    if (!doc.needs) {
      const previous = i > 0 ? [parsed[i - 1]!.doc.id] : [];
      edges.set(doc.id, previous);
      after.set(doc.id, previous);
      return;
    }
    const known: string[] = [];
    doc.needs.forEach((need, j) => {
      if (local.has(need)) return void known.push(need);
      const elsewhere = allIds.has(need) ? `; "${need}" is in another phase, and needs only name steps of the same list` : didYouMean(need, local);
      ctx.errors.push(new CompileError('unknown_need', `step "${doc.id}" needs unknown step "${need}"${elsewhere}`, ctx.source.locate([...path, 'needs', j])));
    });
    edges.set(doc.id, known);
    after.set(doc.id, []);
  });
  const cycle = findCycle(edges);
  if (cycle) {
    const first = parsed.find((p) => p.doc.id === cycle[0])!;
    ctx.errors.push(
      new CompileError('cycle', `steps form a cycle: ${cycle.join(' → ')}; remove one of these needs`, ctx.source.locate([...first.path, 'needs'])),
    );
  }
  return { local, edges, after, ...(cycle ? { cycle } : {}) };
}
