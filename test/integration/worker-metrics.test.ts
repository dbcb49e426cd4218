// `rebound worker --metrics`: a worker process runs a real run; its /metrics text holds Rebound's and the Temporal SDK's series, and the real Debian Prometheus scrapes it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../stack/ports.ts';
import { startPrometheus, type PrometheusServer } from '../../stack/prometheus.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, runToEnd, start, uniqueSite, waitFor } from '../helpers/runs.ts';

let worker: WorkerProcess;
let address: string;
let site: string;
let prometheus: PrometheusServer | undefined;

beforeAll(async () => {
  address = `127.0.0.1:${await freePort()}`;
  site = uniqueSite('metrics');
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), args: ['--metrics', address] });
  const client = await connect(inject('temporalAddress'));
  const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: metrics}\nspec:
  steps:
    - {id: hello, uses: log, with: {message: "metrics"}}
`);
  const status = await runToEnd(client, plan, site);
  expect(status.state).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await worker?.kill();
});

/** The series of the text format: `name{labels}` → value, and each `# TYPE` name, in order. */
function parse(text: string): { series: Map<string, number>; types: string[] } {
  const series = new Map<string, number>();
  const types: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) types.push(type[1]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)/.exec(line);
    if (sample) series.set(sample[1]!, Number(sample[2]));
  }
  return { series, types };
}

async function prom(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const answer = await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await answer.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** Waits on Prometheus's own samples, never on a sleep. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Prometheus never had ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('rebound worker --metrics', () => {
  it("serves Rebound's series and the SDK's in one text, with no name twice", async () => {
    const answer = await fetch(`http://${address}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    const { series, types } = parse(text);
    expect(series.get('rebound_steps_total{action="log",outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(series.get('rebound_step_attempts_total{action="log"}')).toBeGreaterThanOrEqual(1);
    expect(series.get('rebound_activity_duration_seconds_count{action="log"}')).toBeGreaterThanOrEqual(1);
    expect(types).toContain('rebound_restore_point_bytes_total');
    // The SDK's Core: polls and slots of this worker's task queues.
    const temporal = [...series.keys()].filter((k) => k.startsWith('temporal_'));
    expect(
      temporal.some((k) => /^temporal_(workflow|activity)_task_execution_latency|^temporal_num_pollers|^temporal_worker_task_slots/.test(k)),
      temporal.join('\n'),
    ).toBe(true);
    expect(types.filter((t, i) => types.indexOf(t) !== i)).toEqual([]);
    expect(text).not.toContain('Temporal SDK metrics unavailable');
    // Nothing else is served there.
    expect((await fetch(`http://${address}/`)).status).toBe(404);
  });

  it('counts the approvals waiting on its queue by runbook, and stops counting one once decided', async () => {
    const client = await connect(inject('temporalAddress'));
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: metrics-gate}\nspec:
  steps:
    - {id: gate, uses: approval, with: {timeout: 10m}}
`);
    const waiting = async () => parse(await (await fetch(`http://${address}/metrics`)).text()).series.get('rebound_approvals_waiting{runbook="metrics-gate"}');
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => s.steps.some((step) => step.id === 'gate' && step.status === 'running'));
    // The gauge is read from Temporal at scrape time and cached 10 s: poll it, bet on no interval.
    const until = async (want: number | undefined) => {
      const deadline = Date.now() + 60_000;
      while ((await waiting()) !== want) {
        if (Date.now() > deadline) throw new Error(`rebound_approvals_waiting never became ${want}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await until(1);
    await handle.cancel();
    await until(undefined);
  });

  it('is scraped by the real Prometheus: up, and the rebound_ and temporal_ series are queryable', { timeout: 240_000 }, async () => {
    prometheus = await startPrometheus({ targets: [address], scrapeInterval: '1s', log: (line) => console.log(`[prometheus] ${line}`) });
    await until('up{job="targets"} == 1', async () => (await prom('up{job="targets"}'))[0]?.value[1] === '1');
    await until(
      'rebound_steps_total of log',
      async () => Number((await prom('rebound_steps_total{job="targets",action="log",outcome="succeeded"}'))[0]?.value[1] ?? 0) >= 1,
    );
    expect((await prom('{job="targets", __name__=~"temporal_.+"}')).length).toBeGreaterThan(0);
    expect((await prom('scrape_samples_post_metric_relabeling{job="targets"}'))[0]?.value[1]).not.toBe('0');
  });
});
