// `rebound worker`: polls its site's task queue until SIGINT/SIGTERM, then shuts down gracefully and closes the catalogs; `--metrics` serves Prometheus metrics meanwhile.
import { closeCatalogs } from '../activities/restore-points/index.ts';
import { startWorkerMetrics } from './metrics.ts';
import { createWorker } from './worker.ts';
import { connectClient, taskQueueFor } from '../client/connection.ts';

/**
 * `rebound worker`: runs until SIGINT/SIGTERM, then stops polling and gives running
 * activities `drainMs` to finish (Temporal's shutdown grace time); those still running then
 * are cancelled — their tools stopped, their drafts discarded — and retried on another worker.
 */
export async function runWorker(options: { site?: string; bundle?: string; metrics?: string; drainMs?: number }): Promise<void> {
  // Listening first: a taken port fails the start, and Core's exporter is set up with the runtime.
  const metrics = options.metrics ? await startWorkerMetrics(options.metrics) : undefined;
  const worker = await createWorker({
    site: options.site,
    bundlePath: options.bundle,
    coreMetricsAddress: metrics?.coreAddress,
    extra: { shutdownGraceTime: options.drainMs ?? 0 },
  }).catch(async (error: unknown) => {
    await metrics?.close();
    throw error;
  });
  const client = metrics ? await connectClient() : undefined;
  if (metrics && client) {
    metrics.watchApprovals(client, taskQueueFor(options.site));
    console.log(`rebound worker: metrics on ${metrics.url}`);
  }
  console.log(`rebound worker: polling task queue ${taskQueueFor(options.site)}`);
  await worker.run();
  await closeCatalogs();
  await metrics?.close();
  await client?.connection.close();
  console.log('rebound worker: stopped');
}
