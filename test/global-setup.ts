// Vitest global setup: one Temporal dev server and one prebuilt workflow bundle for the whole test run, provided to every test.
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startTemporal, type TemporalServer } from '../stack/temporal.ts';
import { useLocalKeys } from '../stack/keys.ts';
import { DATA } from '../stack/tools.ts';

let server: TemporalServer | undefined;

/** One real Temporal dev server and one prebuilt workflow bundle for the whole run. */
export async function setup(project: TestProject): Promise<void> {
  const dir = join(DATA, `test-${process.pid}`);
  // Every test's runs are signed with this pair, and every worker it starts trusts it.
  useLocalKeys(dir);
  const [started, bundle] = await Promise.all([
    startTemporal({ dir, log: (line) => console.log(`[setup] ${line}`) }),
    buildWorkflowBundle(join(dir, 'workflow-bundle.js')),
  ]);
  server = started;
  // A run stopped with SIGTERM (a CI timeout, `timeout`, kill) skips teardown; the dev server
  // is not in its process group then, so stop it here rather than leave it running.
  process.once('SIGTERM', () => void started.stop().finally(() => process.exit(143)));
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundle', bundle);
  project.provide('dataDir', dir);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundle: string;
    dataDir: string;
  }
}
