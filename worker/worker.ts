// Creating a Rebound worker: Temporal connection, namespace check, the site's task queue, every action activity, the workflow bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { workerIdentity } from '../activities/runtime/identity.ts';
import { trustedKeys } from '../activities/runtime/trust.ts';
import { useReportSource } from '../activities/notify/report.ts';
import { loadRunRecord } from '../client/record.ts';
import { buildReport } from '../client/report/build.ts';
import { renderMarkdown } from '../client/report/render.ts';
import { assertNamespaceReady } from '../client/setup.ts';
import { connectExplained } from '../client/connect-errors.ts';
import { connectConfig, taskQueueFor } from '../client/connection.ts';
import { installLogger } from './logger.ts';

// Beside this file's own kind: workflows/index.ts in a checkout, workflows/index.js in the packed build (dist/).
const COMPILED = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(COMPILED ? '../workflows/index.js' : '../workflows/index.ts', import.meta.url));
/** The bundle `npm pack` builds (scripts/build.ts) beside the compiled code: dist/workflow-bundle.js; never used from a checkout's sources. */
const PACKED_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

export interface ReboundWorkerOptions {
  site?: string;
  taskQueue?: string;
  /** A prebuilt workflow bundle (`npm run build:workflows`); without one (nor REBOUND_WORKFLOW_BUNDLE), the packed build's, else bundles at start. */
  bundlePath?: string;
  extra?: Partial<WorkerOptions>;
  /** Signals the SDK's runtime handles; [] when an embedding process owns them. */
  shutdownSignals?: NodeJS.Signals[];
  /** Where the SDK's Core serves its own Prometheus metrics (worker/metrics.ts picks it); only before the process's first worker. */
  coreMetricsAddress?: string;
}

export async function createWorker(options: ReboundWorkerOptions = {}): Promise<Worker> {
  installLogger({ shutdownSignals: options.shutdownSignals, coreMetricsAddress: options.coreMetricsAddress });
  // A worker that trusts no key could run no plan: say what to set now, not at the first run.
  trustedKeys();
  const { connectionOptions, namespace } = connectConfig();
  const connection = await connectExplained(
    NativeConnection.connect.bind(NativeConnection),
    connectionOptions as Parameters<typeof NativeConnection.connect>[0],
  );
  // Runs would fail to start without them; say so now, with the fix, not at the first run.
  await assertNamespaceReady(connection, namespace);
  const bundlePath = options.bundlePath ?? process.env.REBOUND_WORKFLOW_BUNDLE ?? (COMPILED && existsSync(PACKED_BUNDLE) ? PACKED_BUNDLE : undefined);
  if (bundlePath && !existsSync(bundlePath)) throw new Error(`workflow bundle ${bundlePath} does not exist; run npm run build:workflows`);
  // An e-mail's attached report is the run as it stands, read through the activity's own client (activities do not import client/).
  useReportSource(async (runId) => renderMarkdown(buildReport(await loadRunRecord(Context.current().client, runId))));
  return Worker.create({
    connection,
    namespace,
    taskQueue: options.taskQueue ?? taskQueueFor(options.site),
    identity: workerIdentity(),
    activities: createActivities(),
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.extra,
  });
}
