// Step graph checks for the compiler: find a cycle among step ids, and whether one step certainly finishes before another starts.
/** Finds one cycle in a graph of step ids, returned as the ids along it, or undefined. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      if (!edges.has(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Whether `ancestor` certainly finished before `id` starts: reachable over the edges.
 * Asked only when an expression names a step, so runbooks pay for what they reference.
 */
export function precedes(ancestor: string, id: string, edges: ReadonlyMap<string, readonly string[]>): boolean {
  const seen = new Set<string>();
  const stack = [...(edges.get(id) ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (next === ancestor) return true;
    if (seen.has(next) || next === id) continue;
    seen.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return false;
}
