// metrics.check against a real Prometheus (Debian's) scraping a loopback target whose gauges the test sets: pass, fail, a `for:` window, special values, bad PromQL, no series, auth, Prometheus down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsCheckImpl } from '../../activities/metrics/check.ts';
import { startPrometheus, type PrometheusServer } from '../../stack/prometheus.ts';
import { freePort } from '../../stack/ports.ts';
import { stepRunner, type RunOptions } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { startHttpServer } from '../helpers/http-server.ts';

/** What the target exposes, series by series, in the text format; the tests change the values. */
const gauges = new Map<string, number>([
  ['error_ratio{service="orders"}', 0.002],
  ['error_ratio{service="payments"}', 0.001],
  ['p99_latency_seconds{service="orders"}', 0.05],
]);

let target: Awaited<ReturnType<typeof startHttpServer>>;
let prometheus: PrometheusServer;
let proxy: Awaited<ReturnType<typeof startHttpServer>>;

type Raw = { metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> };

/** The test's own look at what Prometheus holds (an instant query at its now), to wait on facts instead of sleeping. */
async function prom(query: string): Promise<Raw[]> {
  const answer = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await answer.json()) as { status: string; data: { result: Raw[] } };
  if (body.status !== 'success') throw new Error(`the test's query ${query} failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Prometheus never had ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sets a gauge and waits until Prometheus has scraped the new value. */
async function setGauge(series: string, value: number): Promise<void> {
  gauges.set(series, value);
  await until(`${series} = ${value}`, async () => ((await prom(series))[0]?.value?.[1] === String(value) ? true : undefined));
}

beforeAll(async () => {
  target = await startHttpServer({
    '/metrics': (_q, res) => {
      const lines = [...gauges].map(([series, value]) => `${series} ${value}`);
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end(`# TYPE error_ratio gauge\n# TYPE p99_latency_seconds gauge\n${lines.join('\n')}\n`);
    },
  });
  prometheus = await startPrometheus({ targets: [new URL(target.url('/')).host], scrapeInterval: '1s', log: (line) => console.log(`[prometheus] ${line}`) });
  // A proxy in front of it that wants a bearer token, as a hosted Prometheus does.
  proxy = await startHttpServer({
    '/api/v1/query': async (q, res) => {
      if (q.headers.authorization !== 'Bearer s3cr3t-token') return void res.writeHead(401).end('missing or wrong token');
      const body: Buffer[] = [];
      for await (const chunk of q) body.push(chunk as Buffer);
      const answer = await fetch(`${prometheus.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': String(q.headers['content-type']) },
        body: Buffer.concat(body),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    },
  });
  await until('every series of the target', async () =>
    (await prom('{job="targets", __name__!="up", __name__!~"scrape_.*"}')).length === 3 ? true : undefined,
  );
}, 180_000); // the first run installs Prometheus from Debian

afterAll(async () => {
  await prometheus?.stop();
  await proxy?.close();
  await target?.close();
});

const steps = stepRunner({ runbook: 'failover-orders', step: 'error-rate-ok' });
const run = (w: Record<string, unknown>, options?: RunOptions) => steps.run(metricsCheckImpl, { url: prometheus.url, ...w }, options);

describe('metrics.check on Prometheus 2.42', () => {
  it('passes when every series meets the condition, and lists each with its worst value', async () => {
    const result = await run({ query: 'max by (service) (error_ratio)', expect: { op: '<', value: 0.01 } });
    expect(result.outputs).toMatchObject({
      passed: true,
      window: null,
      samples: 2,
      series_count: 2,
      series: [
        { labels: { service: 'orders' }, value: 0.002 },
        { labels: { service: 'payments' }, value: 0.001 },
      ],
    });
    // A scalar and a matrix (every raw sample of the last minute, two a series at least by now) are compared too.
    expect((await run({ query: 'scalar(max(error_ratio)) * 100', expect: { op: '<=', value: 0.5 } })).outputs).toMatchObject({ samples: 1, series_count: 1 });
    await until('two samples of each error_ratio series', async () =>
      (await prom('error_ratio[1m]')).every((r) => (r.values?.length ?? 0) >= 2) ? true : undefined,
    );
    const raw = await run({ query: 'error_ratio[1m]', expect: { op: '>', value: 0 } });
    expect(raw.outputs).toMatchObject({ series_count: 2, samples: expect.any(Number) });
    expect(raw.outputs.samples).toBeGreaterThanOrEqual(4);
  });

  it('a failing comparison is retryable and names the series and its value', async () => {
    await setGauge('error_ratio{service="orders"}', 0.034);
    try {
      const failure = await failureOf(run({ name: 'error rate', query: 'max by (service) (error_ratio)', expect: { op: '<', value: 0.01 } }));
      expect(failure.type).toBe('check_failed');
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(
        /^prometheus: step "error-rate-ok": error rate \{service="orders"\} = 0\.034, expected < 0\.01 — will retry \(attempt 1 of 3\)$/,
      );
    } finally {
      await setGauge('error_ratio{service="orders"}', 0.002);
    }
  });

  it('with for:, one bad evaluation in the window fails the check that passes now', { timeout: 60_000 }, async () => {
    const series = 'p99_latency_seconds{service="orders"}';
    const samples = async () => ((await prom(`${series}[60s]`))[0]?.values ?? []).map(([t, v]) => ({ t, v: Number(v) }));
    // Bad for at least three scrapes, then good for at least three: both stretches are in Prometheus' own samples.
    gauges.set(series, 0.5);
    const bad = await until('three bad samples', async () => {
      const seen = (await samples()).filter((s) => s.v === 0.5);
      return seen.length >= 3 ? seen : undefined;
    });
    gauges.set(series, 0.05);
    const good = await until('three good samples after the bad ones', async () => {
      const seen = (await samples()).filter((s) => s.v === 0.05 && s.t > bad.at(-1)!.t);
      return seen.length >= 3 ? seen : undefined;
    });
    const [firstBad, firstGood] = [bad[0]!.t, good[0]!.t];
    const check = { name: 'p99 latency', query: `max(${series})`, expect: { op: '<', value: 0.2 } };

    // Now, it is fine.
    expect((await run(check)).outputs).toMatchObject({ passed: true, series: [{ value: 0.05 }] });

    // Over a window reaching back before the spike, evaluated every 500 ms: the spike (≥ 2 s of evaluations) is in it.
    const reach = `${Math.ceil(Date.now() / 1000 - firstBad) + 2}s`;
    const failure = await failureOf(run({ ...check, for: reach, step: '500ms' }));
    expect(failure.type).toBe('check_failed');
    expect(failure.nonRetryable).toBe(false);
    const at = /p99 latency = 0\.5 at (\S+), expected < 0\.2 \(over the last (\d+s)\)/.exec(failure.message);
    expect(at, failure.message).not.toBeNull();
    expect(at![2]).toBe(reach);
    const when = Date.parse(at![1]!) / 1000;
    expect(when).toBeGreaterThanOrEqual(firstBad - 0.001);
    expect(when).toBeLessThan(firstGood);

    // A window that starts after the spike, with the default step, passes.
    const since = `${Math.floor((Date.now() / 1000 - firstGood) * 1000) - 100}ms`;
    const after = await run({ ...check, for: since });
    expect(after.outputs).toMatchObject({ passed: true, window: since, series: [{ value: 0.05 }] });
    expect(after.outputs.samples).toBeGreaterThan(1);
  });

  it('NaN and +Inf never pass, and say why', async () => {
    const nan = await failureOf(run({ query: '0 / 0', expect: { op: '!=', value: 1 } }));
    expect(nan.type).toBe('check_failed');
    expect(nan.message).toContain('0 / 0 = NaN (not a number: 0/0, a ratio over no traffic?), expected != 1');
    const inf = await failureOf(run({ query: 'sum(error_ratio) / 0', expect: { op: '>', value: 5 } }));
    expect(inf.message).toContain('sum(error_ratio) / 0 = +Inf (a division by zero?), expected > 5');
  });

  it("bad PromQL is invalid input, not retried, with Prometheus' own message", async () => {
    const failure = await failureOf(run({ query: 'sum(error_ratio', expect: { op: '<', value: 1 } }));
    expect(failure.type).toBe('invalid_input');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/Prometheus refused the query \(bad_data: .*parse error.*\)/);
  });

  it('no series fails by default, and passes with on_empty: pass', async () => {
    const query = 'error_ratio{service="no-such-service"}';
    const failure = await failureOf(run({ query, expect: { op: '<', value: 0.01 }, for: '5s' }));
    expect(failure.type).toBe('check_failed');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain(`${query}: the query returned no series (over the last 5s): nothing to compare`);
    expect((await run({ query, expect: { op: '<', value: 0.01 }, on_empty: 'pass' })).outputs).toMatchObject({ passed: true, samples: 0, series: [] });
  });

  it('a bearer token in headers reaches the API; without it the check is refused, not retried, the token never shown', async () => {
    const secrets = { token: { env: 'REBOUND_TEST_PROM_TOKEN' } };
    process.env.REBOUND_TEST_PROM_TOKEN = 'Bearer s3cr3t-token';
    try {
      const check = { url: proxy.url('/'), query: 'max(error_ratio)', expect: { op: '<', value: 0.01 } };
      const passed = await run({ ...check, headers: { Authorization: { $secret: 'token' } } }, { secrets });
      expect(passed.outputs).toMatchObject({ passed: true, samples: 1 });
      process.env.REBOUND_TEST_PROM_TOKEN = 'Bearer wrong';
      const refused = await failureOf(run({ ...check, headers: { Authorization: { $secret: 'token' } } }, { secrets }));
      expect(refused.type).toBe('auth_failed');
      expect(refused.nonRetryable).toBe(true);
      expect(refused.message).toContain('answered 401: missing or wrong token');
      expect(JSON.stringify([passed, refused.message])).not.toContain('s3cr3t');
    } finally {
      delete process.env.REBOUND_TEST_PROM_TOKEN;
    }
  });

  it('Prometheus down is unreachable and retryable', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const failure = await failureOf(run({ url: closed, query: 'up', expect: { op: '==', value: 1 } }));
    expect(failure.type).toBe('unreachable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/^prometheus: step "error-rate-ok": POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: ECONNREFUSED — will retry/);
  });
});
