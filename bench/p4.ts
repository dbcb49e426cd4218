// P4: from a failover run's start to PowerDNS serving the new answer, over 50 failovers, and the engine's share of that time.
import { promises as dns } from 'node:dns';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { compile } from '../compiler/index.ts';
import { PRIMARY_IP, RECORD, STANDBY_IP, startFailoverSite, ZONE, type FailoverSite } from '../stack/failover-site.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { installLogger } from '../worker/logger.ts';
import { WORKFLOWS_PATH } from '../worker/worker.ts';
import { median, percentile, type Row } from './report.ts';

/** The traffic switch of dr-failover.yaml on its own: what P4 times is the engine around it, not approvals or health checks. */
const runbook = (site: FailoverSite, to: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: p4-failover}
spec:
  secrets: {pdns_key: {env: PDNS_API_KEY}}
  steps:
    - id: switch-dns
      uses: dns.switch
      with:
        provider: powerdns
        zone: ${ZONE}
        name: ${RECORD}
        type: A
        values: [${to}]
        ttl: 60
        powerdns: {api_url: "${site.pdns.apiUrl}", api_key: "\${{ secrets.pdns_key }}", resolver: "${site.params.pdns_resolver}"}
`;

/** Intervals the worker spent inside PowerDNS: its API calls and its resolution check's queries (performance.now() ms). */
type Intervals = Array<[number, number]>;

/** Wraps fetch (API calls to PowerDNS) and Resolver.resolve4 (the check) to time them; the observer's own queries are not counted. */
function instrument(apiUrl: string, observer: dns.Resolver): { current: Intervals } {
  const timing = { current: [] as Intervals };
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      timing.current.push([t, performance.now()]);
    }
  };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) =>
    String(input instanceof Request ? input.url : input).startsWith(apiUrl) ? timed(() => realFetch(input, init)) : realFetch(input, init);
  const realResolve4 = dns.Resolver.prototype.resolve4;
  dns.Resolver.prototype.resolve4 = function (this: dns.Resolver, ...args: Parameters<typeof realResolve4>) {
    return this === observer ? realResolve4.apply(this, args) : timed(() => realResolve4.apply(this, args));
  } as typeof realResolve4;
  return timing;
}

/** Time inside the intervals that falls between `from` and `to`. */
const within = (intervals: Intervals, from: number, to: number): number =>
  intervals.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);

/** Polls PowerDNS over DNS until it answers `ip`; the time it first did. */
async function servedAt(observer: dns.Resolver, ip: string, deadline: number): Promise<number> {
  for (;;) {
    const answer = await observer.resolve4(RECORD.slice(0, -1)).catch(() => []);
    if (answer[0] === ip) return performance.now();
    if (performance.now() > deadline) throw new Error(`PowerDNS never answered ${ip}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function p4(results: Record<string, unknown>): Promise<Row[]> {
  installLogger({ level: 'WARN' });
  const rounds = Number(process.env.BENCH_P4_ROUNDS ?? 50);
  const site = await startFailoverSite();
  process.env.PDNS_API_KEY = site.pdns.apiKey;
  const server = await startTemporal({ dir: join(DATA, `bench-p4-${process.pid}`) });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: 'bench-p4',
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(),
  });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const observer = new dns.Resolver({ timeout: 500, tries: 1 });
  observer.setServers([site.params.pdns_resolver!]);
  const timing = instrument(site.pdns.apiUrl, observer);
  const plans = [STANDBY_IP, PRIMARY_IP].map((ip) => compile(runbook(site, ip), { file: 'p4.yaml' }).plan!);
  const total: number[] = [];
  const engine: number[] = [];
  const inside: number[] = [];
  const done: number[] = [];
  const engineDone: number[] = [];
  try {
    // One warm-up each way: the first run pays for the workflow bundle and connections.
    for (let round = -2; round < rounds; round++) {
      const to = round % 2 === 0 ? STANDBY_IP : PRIMARY_IP;
      timing.current = [];
      const t0 = performance.now();
      const handle = await startRun(client, plans[round % 2 === 0 ? 0 : 1]!, {}, { taskQueue: 'bench-p4', workflowId: `p4-${round}-${Date.now()}` });
      const served = await servedAt(observer, to, t0 + 60_000);
      const status = await finalStatus(handle);
      const ended = performance.now();
      if (status.state !== 'succeeded') throw new Error(`P4 run ${status.state}: ${status.error}`);
      if (round < 0) continue;
      const external = within(timing.current, t0, served);
      total.push(served - t0);
      inside.push(external);
      engine.push(served - t0 - external);
      done.push(ended - t0);
      engineDone.push(ended - t0 - within(timing.current, t0, ended));
      if ((round + 1) % 10 === 0) console.error(`P4 ${round + 1}/${rounds}: total ${total.at(-1)!.toFixed(0)} ms, engine ${engine.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    worker.shutdown();
    await running;
    await server.stop();
    await site.stop();
  }
  const stats = (xs: number[]) => ({ median: median(xs), p99: percentile(xs, 99) });
  results.p4 = {
    rounds,
    from: 'run start (client.workflow.start); rebound serve not used',
    to_served_ms: { ...stats(total), all: total },
    engine_to_served_ms: { ...stats(engine), all: engine },
    powerdns_to_served_ms: stats(inside),
    // The run also verifies the answer itself and records the result before it ends.
    to_run_end_ms: stats(done),
    engine_to_run_end_ms: stats(engineDone),
  };
  return [
    {
      id: 'P4',
      what: `run start → new answer served by PowerDNS (${rounds} failovers): median / p99`,
      value: `${median(total).toFixed(0)} / ${percentile(total, 99).toFixed(0)} ms`,
      goal: '—',
      met: true,
    },
    {
      id: 'P4',
      what: 'engine share (total − PowerDNS API calls − resolution check): median / p99',
      value: `${median(engine).toFixed(0)} / ${percentile(engine, 99).toFixed(0)} ms`,
      goal: '≤ 250 ms median',
      met: median(engine) <= 250,
    },
  ];
}
