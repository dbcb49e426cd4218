// The worker's `rebound_approvals_waiting` gauge: at scrape time, the approval steps of the runs open on its task queue that wait for a decision, by runbook.
import type { Client } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { statusQuery } from '../contract/run.ts';

/** A scrape looks at this many open runs at most: each costs a query a worker answers. */
export const APPROVAL_SCAN_LIMIT = 200;
/** Prometheus scrapes every 15 s by default; a second scrape within this reuses the first's count. */
const CACHE_MS = 10_000;

/** Open runs of the queue, queried for their status: the approvals that wait, by runbook. Child runs count where they wait. */
async function countWaiting(client: Client, taskQueue: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let seen = 0;
  for await (const run of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
    if (++seen > APPROVAL_SCAN_LIMIT) break;
    // A run that closed between the list and the query, or that no worker answers for now, waits for nobody we can count.
    const status = await client.workflow
      .getHandle(run.workflowId, run.runId)
      .query(statusQuery)
      .catch(() => undefined);
    const waiting = status?.steps.filter((s) => s.uses === 'approval' && s.status === 'running').length ?? 0;
    if (waiting) counts.set(status!.runbook, (counts.get(status!.runbook) ?? 0) + waiting);
  }
  return counts;
}

/** Registers the gauge; it reads Temporal only when scraped, and says nothing until the worker's client is known. */
export function watchApprovals(registry: Registry, client: Client, taskQueue: string): void {
  let cached: { at: number; counts: Map<string, number> } | undefined;
  new Gauge({
    name: 'rebound_approvals_waiting',
    help: `Approval steps waiting for a decision in runs open on this worker's task queue, by runbook (the first ${APPROVAL_SCAN_LIMIT} open runs)`,
    labelNames: ['runbook'],
    registers: [registry],
    async collect() {
      // Temporal unreachable: the last count stands rather than failing the whole scrape.
      if (!cached || Date.now() - cached.at > CACHE_MS)
        cached = await countWaiting(client, taskQueue).then(
          (counts) => ({ at: Date.now(), counts }),
          () => cached,
        );
      this.reset();
      for (const [runbook, n] of cached?.counts ?? []) this.set({ runbook }, n);
    },
  });
}
