// The embedded default stack: a Temporal dev server and a worker in this process (`rebound dev`, `demo`).
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { closeCatalogs } from '../activities/restore-points/index.ts';
import { createWorker } from '../worker/worker.ts';
import type { StackOwner } from './owner.ts';
import { startTemporal, type TemporalServer } from './temporal.ts';
import { useLocalKeys } from './keys.ts';
import { DATA } from './tools.ts';

export interface EmbeddedStack {
  server: TemporalServer;
  worker: Worker;
  /** Settles when the worker stops; rejects on a fatal worker error. */
  running: Promise<void>;
}

/**
 * Starts the server, then the worker, registering each with `owner` as soon as it runs,
 * so a failed start or a signal stops what was started. The SDK's own signal handling is
 * off here: the owner decides when the worker stops, and stops the server after it.
 */
export async function startStack(owner: StackOwner, options: { dir?: string; site?: string; log?: (line: string) => void } = {}): Promise<EmbeddedStack> {
  const dir = options.dir ?? join(DATA, 'dev');
  // The embedded worker trusts the plans this process signs, and nothing else.
  useLocalKeys(dir);
  const server = await startTemporal({ dir, ui: true, log: options.log });
  owner.own(
    'Temporal dev server',
    () => server.stop(),
    () => server.pid,
  );
  process.env.TEMPORAL_ADDRESS = server.address;
  if (server.uiUrl) process.env.REBOUND_UI_URL = server.uiUrl;
  const worker = await createWorker({ site: options.site, shutdownSignals: [] });
  const running = worker.run();
  owner.own('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await closeCatalogs();
  });
  return { server, worker, running };
}
