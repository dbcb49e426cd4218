// `rebound worker`: polls its site's task queue until SIGINT/SIGTERM, then shuts down gracefully and closes the catalogs; `--metrics` serves Prometheus metrics meanwhile.
import { closeCatalogs } from '../activities/restore-points/index.ts';
import { startWorkerMetrics } from './metrics.ts';
import { createWorker } from './worker.ts';
import { connectClient, taskQueueFor } from '../client/connection.ts';

/**
 * `rebound worker`: runs until SIGINT/SIGTERM, then stops polling and lets running
 * activities finish (Temporal's graceful shutdown).
 */
export async function runWorker(options: { site?: string; bundle?: string; metrics?: string }): Promise<void> {
  // Listening first: a taken port fails the start, and Core's exporter is set up with the runtime.
  const metrics = options.metrics ? await startWorkerMetrics(options.metrics) : undefined;
  const worker = await createWorker({ site: options.site, bundlePath: options.bundle, coreMetricsAddress: metrics?.coreAddress }).catch(
    async (error: unknown) => {
      await metrics?.close();
      throw error;
    },
  );
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
