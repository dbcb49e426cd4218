// P5 on a real Temporal cluster (PostgreSQL, SQL visibility, mTLS): 1,000 runs at once, interpreter vs hand-written, and one worker vs two.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { connectConfig } from '../client/connection.ts';
import { setupNamespace } from '../client/setup.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startTemporalCluster } from '../stack/temporal-cluster/cluster.ts';
import { DATA } from '../stack/tools.ts';
import { startHttpServer } from '../test/helpers/http-server.ts';
import { batch, type Batch, type Target } from './p5.ts';
import type { Row } from './report.ts';

const seconds = (b: Batch) => `${(b.wall_ms / 1000).toFixed(1)} s`;
const cpu = (b: Batch) => `workers ${b.worker_cpu_s.toFixed(0)} CPU-s, machine ${(b.machine_busy * 100).toFixed(0)}% busy`;

export async function p5Cluster(results: Record<string, unknown>): Promise<Row[]> {
  const runs = Number(process.env.BENCH_P5_RUNS ?? 1000);
  const dir = join(DATA, `bench-p5c-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const cluster = await startTemporalCluster({ dir: join(dir, 'temporal'), log: (line) => console.error(`[p5c] ${line}`) });
  const http = await startHttpServer();
  try {
    const options = () => connectConfig({ ...process.env, ...cluster.env }).connectionOptions as Parameters<typeof Connection.connect>[0];
    const setup = await Connection.connect(options());
    await setupNamespace(setup, 'default').finally(() => setup.close());
    const target: Target = { address: cluster.address, env: cluster.env, connect: async () => new Client({ connection: await Connection.connect(options()) }) };
    const bundle = await buildWorkflowBundle(join(dir, 'bundle.js'), fileURLToPath(new URL('./workflows.ts', import.meta.url)));
    const url = http.url('/health');
    const hand = await batch(target, bundle, 'hand', runs, url);
    console.error(`P5c hand-written, 1 worker: ${seconds(hand)} (${cpu(hand)})`);
    const one = await batch(target, bundle, 'interpreter', runs, url);
    console.error(`P5c interpreter, 1 worker: ${seconds(one)} (${cpu(one)})`);
    const two = await batch(target, bundle, 'interpreter', runs, url, 2);
    console.error(`P5c interpreter, 2 workers: ${seconds(two)} (${cpu(two)})`);
    const ratio = one.wall_ms / hand.wall_ms;
    const scaling = two.runs_per_s / one.runs_per_s;
    const failed = hand.failed + one.failed + two.failed;
    results.p5_cluster = {
      runs,
      server: 'temporal-server v1.32.2, PostgreSQL 15, mTLS',
      handwritten: hand,
      interpreter: one,
      interpreter_2_workers: two,
      ratio,
      scaling,
    };
    return [
      {
        id: 'P5c',
        what: `${runs} runs at once on the cluster, one worker: interpreter / hand-written wall time`,
        value: `${ratio.toFixed(3)}× (${seconds(one)} vs ${seconds(hand)}; ${one.runs_per_s.toFixed(1)} vs ${hand.runs_per_s.toFixed(1)} runs/s)`,
        goal: '≤ 1.25×',
        met: ratio <= 1.25 && failed === 0,
      },
      {
        id: 'P5c',
        what: `${runs} runs at once on the cluster: 2 workers / 1 worker throughput`,
        value: `${scaling.toFixed(2)}× (${two.runs_per_s.toFixed(1)} vs ${one.runs_per_s.toFixed(1)} runs/s; 1 worker: ${cpu(one)}; 2: ${cpu(two)})`,
        goal: '≥ 1.6×',
        met: scaling >= 1.6 && failed === 0,
      },
    ];
  } finally {
    await http.close();
    await cluster.stop();
  }
}
