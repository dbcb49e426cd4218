import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startTemporal, type TemporalServer } from './temporal.ts';
import { DATA } from './tools.ts';
import { createWorker } from '../worker/worker.ts';

export interface EmbeddedStack {
  server: TemporalServer;
  worker: Worker;
  running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded default stack: a Temporal dev server (SQLite under .data/) and a worker in
 * this process. What `rebound dev` and `rebound demo` run on.
 */
export async function startStack(options: { dir?: string; site?: string; log?: (line: string) => void } = {}): Promise<EmbeddedStack> {
  const server = await startTemporal({ dir: options.dir ?? join(DATA, 'dev'), ui: true, log: options.log });
  process.env.TEMPORAL_ADDRESS = server.address;
  if (server.uiUrl) process.env.REBOUND_UI_URL = server.uiUrl;
  const worker = await createWorker({ site: options.site });
  const running = worker.run();
  return {
    server,
    worker,
    running,
    stop: async () => {
      worker.shutdown();
      await running.catch(() => undefined);
      await server.stop();
    },
  };
}
