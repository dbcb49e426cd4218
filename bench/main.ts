// The benchmark entry (npm run bench): runs the selected P1–P10 measurements, prints the goal table and writes the results JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { Worker, NativeConnection } from '@temporalio/worker';
import { compile } from '../compiler/index.ts';
import { createActivities } from '../activities/index.ts';
import { finalStatus } from '../client/runs.ts';
import { signPlan } from '../client/signing.ts';
import { startTemporal } from '../stack/temporal.ts';
import { useLocalKeys } from '../stack/keys.ts';
import { handTrust } from './trust.ts';
import { DATA } from '../stack/tools.ts';
import { installLogger } from '../worker/logger.ts';
import { WORKFLOW_TYPE } from '../contract/run.ts';
import { chainRunbook, wideRunbook } from './generate.ts';
import { p2 } from './p2.ts';
import { p2Mongo } from './p2-mongodb.ts';
import { p3 } from './p3.ts';
import { p4 } from './p4.ts';
import { p5 } from './p5.ts';
import { p5Cluster } from './p5-cluster.ts';
import { p7 } from './p7-kubernetes.ts';
import { p8 } from './p8-snapshots.ts';
import { p9 } from './p9-replicas.ts';
import { p10 } from './p10-pitr.ts';
import { consolePosture } from './console-posture.ts';
import { median, printTable, type Row } from './report.ts';

// Every bench run signs its plans with a pair of its own, which its workers trust.
useLocalKeys(join(DATA, `bench-${process.pid}`));
const rows: Row[] = [];
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length };
// `npm run bench -- p1 p3` runs a selection; no arguments runs all.
const selected = new Set(process.argv.slice(2).map((a) => a.toLowerCase()));
const wants = (id: string) => selected.size === 0 || selected.has(id);

// P6: compiling a generated 1,000-step runbook.
if (wants('p6')) {
  const text = wideRunbook(1000);
  for (let i = 0; i < 3; i++) compile(text, { file: 'p6.yaml' });
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    const { plan, errors } = compile(text, { file: 'p6.yaml' });
    times.push(performance.now() - t);
    if (!plan)
      throw new Error(
        errors
          .slice(0, 3)
          .map((e) => e.format())
          .join('\n'),
      );
  }
  results.p6 = { steps: 1000, median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), runs: times.length };
  rows.push({
    id: 'P6',
    what: 'compile a 1,000-step runbook (median of 15)',
    value: `${median(times).toFixed(1)} ms`,
    goal: '< 200 ms',
    met: median(times) < 200,
  });
}

// P1: 200 no-op steps through the interpreter vs a hand-written workflow, same server.
if (wants('p1')) {
  installLogger({ level: 'WARN' });
  const steps = Number(process.env.BENCH_P1_STEPS ?? 200);
  const rounds = Number(process.env.BENCH_P1_ROUNDS ?? 5);
  const server = await startTemporal({ dir: join(DATA, `bench-${process.pid}`) });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: 'bench',
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: createActivities(),
  });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const { plan } = compile(chainRunbook(steps), { file: 'p1.yaml' });
  const interpreter: number[] = [];
  const hand: number[] = [];
  try {
    const once = async (kind: 'interpreter' | 'hand', round: number) => {
      const t = performance.now();
      const id = `p1-${kind}-${round}-${Date.now()}`;
      if (kind === 'interpreter') {
        const status = await finalStatus(
          await client.workflow.start(WORKFLOW_TYPE, { taskQueue: 'bench', workflowId: id, args: [{ plan: plan!, params: {}, signatures: signPlan(plan!) }] }),
        );
        if (status.state !== 'succeeded') throw new Error(`interpreter run ${status.state}`);
      } else {
        const done = await client.workflow.execute('handwritten', { taskQueue: 'bench', workflowId: id, args: [steps, handTrust('p1')] });
        if (done !== steps) throw new Error('hand-written run did not finish');
      }
      return performance.now() - t;
    };
    await once('interpreter', -1);
    await once('hand', -1);
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first so drift on the machine hits both alike.
      if (round % 2 === 0) {
        interpreter.push(await once('interpreter', round));
        hand.push(await once('hand', round));
      } else {
        hand.push(await once('hand', round));
        interpreter.push(await once('interpreter', round));
      }
      console.error(`P1 round ${round + 1}/${rounds}: interpreter ${interpreter.at(-1)!.toFixed(0)} ms, hand-written ${hand.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    worker.shutdown();
    await running;
    await server.stop();
  }
  const ratio = median(interpreter) / median(hand);
  results.p1 = {
    steps,
    rounds,
    interpreter_ms: interpreter,
    handwritten_ms: hand,
    ratio,
    ms_per_step: median(interpreter) / steps,
    handwritten_ms_per_step: median(hand) / steps,
  };
  rows.push({
    id: 'P1',
    what: `${steps} no-op steps: interpreter / hand-written (median of ${rounds})`,
    value: `${ratio.toFixed(3)}× (${(median(interpreter) / steps).toFixed(2)} vs ${(median(hand) / steps).toFixed(2)} ms/step)`,
    goal: '≤ 1.10×',
    met: ratio <= 1.1,
  });
}

if (wants('p2')) rows.push(...(await p2(results)));
if (wants('p2m')) rows.push(...(await p2Mongo(results)));
if (wants('p7')) rows.push(...(await p7(results)));
if (wants('p8')) rows.push(...(await p8(results)));
if (wants('p9')) rows.push(...(await p9(results)));
if (wants('p10')) rows.push(...(await p10(results)));
if (wants('p3')) rows.push(...(await p3(results)));
if (wants('p4')) rows.push(...(await p4(results)));
if (wants('p5')) rows.push(...(await p5(results)));
if (wants('p5c')) rows.push(...(await p5Cluster(results)));
if (wants('c1')) rows.push(...(await consolePosture(results)));

printTable(rows);
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ ...results, table: rows }, null, 2));
console.log(`results written to ${file}`);
process.exit(0);
