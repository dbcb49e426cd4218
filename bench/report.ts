// Benchmark results: the row type, median and percentile, and the printed table of measurements against goals.
export interface Row {
  id: string;
  what: string;
  value: string;
  goal: string;
  met: boolean;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

export function printTable(rows: Row[]): void {
  const cols = ['id', 'what', 'value', 'goal', 'met'] as const;
  const width = (k: (typeof cols)[number]) => Math.max(k.length, ...rows.map((r) => String(r[k]).length));
  console.log(cols.map((c) => c.toUpperCase().padEnd(width(c))).join('  '));
  for (const r of rows)
    console.log(
      cols
        .map((c) => String(r[c]).padEnd(width(c)))
        .join('  ')
        .trimEnd(),
    );
}

/** BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=…" (NODE_OPTIONS refuses it): where a bench's worker spends its time. */
export function workerNodeArgs(): string[] | undefined {
  return process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean);
}
