// Vitest global setup of the cluster run: a real Temporal cluster (PostgreSQL, SQL visibility, mTLS) set up for Rebound, its client variables in every process the tests start.
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { Connection } from '@temporalio/client';
import { connectConfig } from '../client/connection.ts';
import { setupNamespace } from '../client/setup.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { useLocalKeys } from '../stack/keys.ts';
import { startTemporalCluster, type TemporalCluster } from '../stack/temporal-cluster/cluster.ts';
import { DATA } from '../stack/tools.ts';

let cluster: TemporalCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const dir = join(DATA, `test-cluster-${process.pid}`);
  useLocalKeys(dir);
  const log = (line: string) => console.log(`[cluster] ${line}`);
  const [started, bundle] = await Promise.all([
    startTemporalCluster({ dir: join(dir, 'temporal'), log }),
    buildWorkflowBundle(join(dir, 'workflow-bundle.js')),
  ]);
  cluster = started;
  process.once('SIGTERM', () => void started.stop().finally(() => process.exit(143)));
  // Set before the test processes fork, so they, and every worker, CLI and serve they start, connect as an operator's would: TEMPORAL_* only.
  Object.assign(process.env, started.env);
  // As an operator does once per namespace: `rebound setup`.
  const connection = await Connection.connect(connectConfig().connectionOptions as Parameters<typeof Connection.connect>[0]);
  await setupNamespace(connection, 'default').finally(() => connection.close());
  log(`Temporal ${started.address} (mTLS, PostgreSQL ${started.postgres.port}); certificates in ${started.certs.dir}`);
  project.provide('temporalAddress', started.address);
  project.provide('workflowBundle', bundle);
  project.provide('dataDir', dir);
  project.provide('temporalCluster', { certs: started.certs.dir });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set in the cluster run only: where its CA and client certificates are. */
    temporalCluster?: { certs: string };
  }
}
