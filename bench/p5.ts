// P5: 1,000 small runs at once against one worker process (interpreter vs hand-written), and serve's alert-to-first-step latency.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { signPlan } from '../client/signing.ts';
import { handTrust } from './trust.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { compile } from '../compiler/index.ts';
import { finalStatus } from '../client/runs.ts';
import { WORKFLOW_TYPE } from '../contract/run.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startTemporal, type TemporalServer } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { startHttpServer } from '../test/helpers/http-server.ts';
import { postAlert, startServeProcess } from '../test/helpers/serve-process.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { median, percentile, type Row } from './report.ts';

export interface Batch {
  /** Runs that did not succeed (the goal is none). */
  failed: number;
  wall_ms: number;
  runs_per_s: number;
  peak_rss_mb: number;
  workers: number;
  /** CPU seconds the worker processes used, and the whole machine's CPU busy share over the batch. */
  worker_cpu_s: number;
  machine_busy: number;
}

/** Where a batch runs: a server's address, the variables its processes need (TLS), and a client of it. */
export interface Target {
  address: string;
  env: Record<string, string>;
  connect(): Promise<Client>;
}

export function devServerTarget(server: TemporalServer): Target {
  return { address: server.address, env: {}, connect: async () => new Client({ connection: await Connection.connect({ address: server.address }) }) };
}

/** utime + stime of a process, in seconds (Linux's clock ticks are 100 per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's busy and total jiffies so far: a batch's busy share is the difference's ratio. */
function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const P5_RUNBOOK = (url: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: p5}\nspec:
  steps:
    - {id: probe, uses: http.check, with: {url: "${url}"}}
    - {id: nap, uses: sleep, with: {duration: 2s}}
    - {id: note, uses: log, with: {message: done}}
`;

/** One batch: `runs` workflows started at once on fresh worker processes of one queue; wall time from the first start to the last close. */
export async function batch(target: Target, bundle: string, kind: 'interpreter' | 'hand', runs: number, url: string, workerCount = 1): Promise<Batch> {
  const site = `p5-${kind}-${workerCount}w-${Date.now()}`;
  const workers = await Promise.all(Array.from({ length: workerCount }, () => startWorkerProcess({ address: target.address, site, bundle, env: target.env })));
  const client = await target.connect();
  const plan = compile(P5_RUNBOOK(url), { file: 'p5.yaml' }).plan!;
  const handles: WorkflowHandle[] = [];
  try {
    const cpu0 = workers.map((w) => cpuSeconds(w.child.pid!));
    const machine0 = machineJiffies();
    const t0 = Date.now();
    await pool([...Array(runs).keys()], 100, async (i) => {
      const options = { taskQueue: `rebound-${site}`, workflowId: `${site}-${i}` };
      handles.push(
        kind === 'interpreter'
          ? await client.workflow.start(WORKFLOW_TYPE, { ...options, args: [{ plan, params: {}, signatures: signPlan(plan) }] })
          : await client.workflow.start('p5handwritten', { ...options, args: [url, handTrust('p5')] }),
      );
    });
    let lastClose = 0;
    let failed = 0;
    // A failed run is counted, not thrown: a rejection here would close the connection under calls still in flight.
    await pool(handles, 50, async (handle) => {
      failed += await handle.result().then(
        () => 0,
        () => 1,
      );
      lastClose = Math.max(lastClose, (await handle.describe()).closeTime!.getTime());
    });
    const wall = lastClose - t0;
    const machine = machineJiffies();
    return {
      wall_ms: wall,
      runs_per_s: runs / (wall / 1000),
      peak_rss_mb: Math.max(...workers.map((w) => peakRssMb(w.child.pid!))),
      failed,
      workers: workerCount,
      worker_cpu_s: workers.reduce((sum, w, i) => sum + cpuSeconds(w.child.pid!) - cpu0[i]!, 0),
      machine_busy: (machine.busy - machine0.busy) / (machine.total - machine0.total),
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await client.connection.close();
  }
}

/** Alert → serve → Temporal → worker: from sending the alert to the run's first step starting. */
async function alertLatency(server: TemporalServer, bundle: string, alerts: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-p5-'));
  writeFileSync(
    join(dir, 'alerted.yaml'),
    `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: alerted}\nspec:
  triggers: {alert: {match: {alertname: P5}, dedup_key: "\${{ trigger.alert.labels.n }}"}}
  steps:
    - {id: first, uses: log, with: {message: "\${{ trigger.alert.labels.n }}"}}
`,
  );
  const keys = { token: 'p5-bench-token-0123456789abcdef0123' };
  const site = `p5-alert-${Date.now()}`;
  const worker = await startWorkerProcess({ address: server.address, site, bundle });
  const serve = await startServeProcess({ address: server.address, site, runbooks: dir, env: { REBOUND_SERVE_TOKEN: keys.token } });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < alerts; i++) {
      const sent = Date.now();
      const answer = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 'P5', n: `a${i}` } }, keys);
      if (answer.status !== 202) throw new Error(`alert ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
      const status = await finalStatus(client.workflow.getHandle(String(answer.body.run)));
      latencies.push(Date.parse(status.steps[0]!.started_at!) - sent);
    }
  } finally {
    await Promise.all([serve.kill(), worker.kill(), client.connection.close()]);
  }
  return latencies;
}

export async function p5(results: Record<string, unknown>): Promise<Row[]> {
  const runs = Number(process.env.BENCH_P5_RUNS ?? 1000);
  const alerts = Number(process.env.BENCH_P5_ALERTS ?? 200);
  const dir = join(DATA, `bench-p5-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const server = await startTemporal({ dir });
  const http = await startHttpServer();
  try {
    const bundle = await buildWorkflowBundle(join(dir, 'bundle.js'), fileURLToPath(new URL('./workflows.ts', import.meta.url)));
    const target = devServerTarget(server);
    const hand = await batch(target, bundle, 'hand', runs, http.url('/health'));
    console.error(`P5 hand-written: ${runs} runs in ${(hand.wall_ms / 1000).toFixed(1)} s, worker peak RSS ${hand.peak_rss_mb.toFixed(0)} MB`);
    const interpreter = await batch(target, bundle, 'interpreter', runs, http.url('/health'));
    console.error(`P5 interpreter: ${runs} runs in ${(interpreter.wall_ms / 1000).toFixed(1)} s, worker peak RSS ${interpreter.peak_rss_mb.toFixed(0)} MB`);
    const latency = await alertLatency(server, bundle, alerts);
    const ratio = interpreter.wall_ms / hand.wall_ms;
    if (interpreter.failed || hand.failed) console.error(`P5: runs failed: interpreter ${interpreter.failed}, hand-written ${hand.failed}`);
    const [p50, p99] = [median(latency), percentile(latency, 99)];
    results.p5 = { runs, interpreter, handwritten: hand, ratio, alert_to_first_step_ms: { alerts, median: p50, p99, all: latency } };
    return [
      {
        id: 'P5',
        what: `${runs} runs at once, one worker: interpreter / hand-written wall time`,
        value: `${ratio.toFixed(3)}× (${(interpreter.wall_ms / 1000).toFixed(1)} vs ${(hand.wall_ms / 1000).toFixed(1)} s; ${interpreter.runs_per_s.toFixed(1)} vs ${hand.runs_per_s.toFixed(1)} runs/s; RSS ${interpreter.peak_rss_mb.toFixed(0)} vs ${hand.peak_rss_mb.toFixed(0)} MB)`,
        goal: '≤ 1.25×',
        met: ratio <= 1.25 && interpreter.failed === 0 && hand.failed === 0,
      },
      { id: 'P5', what: `alert → first step started (${alerts} alerts): median / p99`, value: `${p50} / ${p99} ms`, goal: 'report', met: true },
    ];
  } finally {
    await http.close();
    await server.stop();
  }
}
