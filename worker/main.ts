// `rebound worker`: polls its site's task queue until SIGINT/SIGTERM, then shuts down gracefully and closes the catalogs.
import { closeCatalogs } from '../activities/restore-points/index.ts';
import { createWorker } from './worker.ts';
import { taskQueueFor } from '../client/connection.ts';

/**
 * `rebound worker`: runs until SIGINT/SIGTERM, then stops polling and lets running
 * activities finish (Temporal's graceful shutdown).
 */
export async function runWorker(options: { site?: string; bundle?: string }): Promise<void> {
  const worker = await createWorker({ site: options.site, bundlePath: options.bundle });
  console.log(`rebound worker: polling task queue ${taskQueueFor(options.site)}`);
  await worker.run();
  await closeCatalogs();
  console.log('rebound worker: stopped');
}
