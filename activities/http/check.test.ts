// http.check and http.request run for real against loopback HTTP(S) servers: checks, retry verdicts, TLS, masking.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../test/helpers/http-server.ts';
import type { ActionResult } from '../../contract/run.ts';
import { stepRunner, type RunOptions } from '../../test/helpers/activity.ts';
import { httpCheckImpl, httpRequestImpl } from './check.ts';

// The activity runs for real against real HTTP(S) servers on loopback; only the Temporal
// activity context around it is the SDK's test environment.
let http: Awaited<ReturnType<typeof startHttpServer>>;
beforeAll(async () => {
  http = await startHttpServer({
    '/health': (_q, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","db":{"lag":2}}'),
    '/down': (_q, res) => void res.writeHead(503).end('maintenance'),
    '/bad-request': (_q, res) => void res.writeHead(400).end('no such pool'),
    '/hang': () => undefined,
    '/model': (_q, res) =>
      void res
        .writeHead(200, { 'content-type': 'application/json', 'X-Model-Ready': 'yes' })
        .end('{"model":{"status":"loading","name":"m-1"},"latency_ms":340,"queue":"12","items":[{"ok":true},{"ok":false}]}'),
    '/text': (_q, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ready: 3 of 3'),
    // Echo the URL they were called on, token and all: only masking keeps it out of what the step reports.
    '/hooks/T0KEN-abc123': (q, res) => void res.writeHead(200).end(`accepted at http://${q.headers.host}${q.url}`),
    '/hooks/T0KEN-fail': (q, res) => void res.writeHead(500).end(`no hook at http://${q.headers.host}${q.url}`),
  });
});
afterAll(() => http.close());

const steps = stepRunner({ runbook: 'rb', runId: 'run-1', step: 'probe' });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }
  throw new Error('expected the action to fail');
}

describe('http.check', () => {
  const run = (w: Record<string, unknown>, options?: RunOptions) => steps.run(httpCheckImpl, w, options);

  it('checks status, body and a JSON field', async () => {
    const result = await run({ url: http.url('/health'), expect_body: '"ok"', expect_json: { path: 'db.lag', equals: 2 } });
    expect(result.outputs).toMatchObject({ status: 200, body_excerpt: expect.stringContaining('ok') });
  });

  it('a wrong status is retryable and says backend, step and attempt', async () => {
    const failure = await failureOf(run({ url: http.url('/down') }));
    expect(failure.message).toMatch(/^http: step "probe": GET http:\/\/127\.0\.0\.1:\d+\/down answered 503, expected 200 — will retry \(attempt 1 of 3\)$/);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('check_failed');
  });

  it('a JSON field with another value fails with both values', async () => {
    const failure = await failureOf(run({ url: http.url('/health'), expect_json: { path: 'status', equals: 'degraded' } }));
    expect(failure.message).toContain('status is "ok", expected "degraded"');
  });

  it('a list of assertions: equality, ordering (numbers, numeric strings), each failure named', async () => {
    const url = http.url('/model');
    const pass = [
      { path: 'model.status', equals: 'loading' },
      { path: 'latency_ms', op: '<', value: 500 },
      { path: 'queue', op: '<=', value: 12 },
      { path: 'model.name', op: '!=', value: 'm-0' },
      { path: 'items.1.ok', op: '==', value: false },
    ];
    expect((await run({ url, expect_json: pass })).outputs).toMatchObject({ status: 200 });
    // The single form takes an operator too.
    expect((await run({ url, expect_json: { path: 'latency_ms', op: '>=', value: 340 } })).outputs).toMatchObject({ status: 200 });

    const failure = await failureOf(
      run({
        url,
        expect_json: [
          { path: 'model.status', equals: 'loaded' },
          { path: 'latency_ms', op: '<', value: 200 },
          { path: 'model.name', op: '>', value: 1 },
          { path: 'model.gpu', equals: true },
          { path: 'queue', op: '==', value: 12 },
        ],
      }),
    );
    expect(failure.type).toBe('check_failed');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain(
      'model.status is "loading", expected "loaded"; latency_ms is 340, expected < 200; model.name is "m-1", expected > 1 (not a number); ' +
        'model.gpu is absent, expected true; queue is "12", expected == 12 —',
    );
  });

  it('expect_json on a body that is not JSON fails, retryable', async () => {
    const failure = await failureOf(run({ url: http.url('/text'), expect_json: [{ path: 'x', equals: 1 }] }));
    expect(failure.message).toContain('body is not JSON');
    expect(failure.nonRetryable).toBe(false);
  });

  it('expect: CEL over the JSON body, status, headers, latency and text passes only when true', async () => {
    const url = http.url('/model');
    for (const expectation of [
      "body.model.status == 'loading' && body.latency_ms < 500",
      'status == 200 && headers["x-model-ready"] == "yes" && headers["content-type"].startsWith("application/json")',
      'latency_ms >= 0 && latency_ms < 10000',
      'text.contains(\'"m-1"\') && body.items.exists(i, i.ok) && size(body.items) == 2',
    ]) {
      expect((await run({ url, expect: expectation })).outputs, expectation).toMatchObject({ status: 200 });
    }
    // A body that is not JSON is the text itself.
    expect((await run({ url: http.url('/text'), expect: "body.startsWith('ready') && body == text" })).outputs).toMatchObject({ status: 200 });
  });

  it('expect false is a retryable check failure naming the expression and the values it read', async () => {
    const failure = await failureOf(run({ url: http.url('/model'), expect: "body.model.status == 'loaded' && body.latency_ms < 200 && status == 200" }));
    expect(failure.type).toBe('check_failed');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(
      /: expect body\.model\.status == 'loaded' && body\.latency_ms < 200 && status == 200 is false \(body\.model\.status = "loading", body\.latency_ms = 340, status = 200\) — will retry/,
    );
  });

  it("expect: a runtime error is a check failure with the evaluator's message; a non-boolean is invalid input", async () => {
    const missing = await failureOf(run({ url: http.url('/model'), expect: 'body.model.gpu == true' }));
    expect(missing.type).toBe('check_failed');
    expect(missing.nonRetryable).toBe(false);
    expect(missing.message).toContain('expect body.model.gpu == true: No such key: gpu');

    const notJson = await failureOf(run({ url: http.url('/text'), expect: 'body.ready == 3' }));
    expect(notJson.type).toBe('check_failed');
    expect(notJson.message).toContain('No such key: ready');

    const value = await failureOf(run({ url: http.url('/model'), expect: 'body.model.status' }));
    expect(value.type).toBe('invalid_input');
    expect(value.nonRetryable).toBe(true);
    expect(value.message).toContain('expect must be true or false; body.model.status gave "loading" (a string)');
  });

  it('expect masks secrets in the values it reports', async () => {
    // The URL is a secret and the server echoes it: only masking keeps it out of the failure.
    process.env.REBOUND_TEST_CHECK_HOOK = http.url('/hooks/T0KEN-abc123');
    try {
      const failure = await failureOf(run({ url: { $secret: 'hook' }, expect: "text == 'nope'" }, { secrets: { hook: { env: 'REBOUND_TEST_CHECK_HOOK' } } }));
      expect(failure.message).toContain(`expect text == 'nope' is false (text = "accepted at ***")`);
      expect(failure.message).not.toContain('T0KEN');
    } finally {
      delete process.env.REBOUND_TEST_CHECK_HOOK;
    }
  });

  it('times out per request', async () => {
    const failure = await failureOf(run({ url: http.url('/hang'), timeout: '300ms' }));
    expect(failure.message).toContain('no answer within 300ms');
  });

  it('invalid input after evaluation is not retryable', async () => {
    const failure = await failureOf(run({ url: 'not a url' }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('with: url');
  });

  it('a missing secret is not retryable and names the variable, not a value', async () => {
    const failure = await failureOf(
      run({ url: http.url('/health'), headers: { Authorization: { $secret: 'token' } } }, { secrets: { token: { env: 'REBOUND_TEST_UNSET_VAR' } } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('environment variable REBOUND_TEST_UNSET_VAR is not set on this worker');
  });

  it('verifies TLS unless told not to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'],
      { stdio: 'ignore' },
    );
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_q, res) =>
      res.writeHead(200).end('tls ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      const failure = await failureOf(run({ url }));
      expect(failure.message).toMatch(/SELF_SIGNED|self.signed/i);
      expect((await run({ url, tls_verify: false })).outputs).toMatchObject({ status: 200 });
    } finally {
      server.close();
    }
  });
});

describe('http.request', () => {
  const run = (w: Record<string, unknown>, simulate = false) => steps.run(httpRequestImpl, w, { simulate });

  it('sends the change; a 4xx is not retryable', async () => {
    const before = http.count('/pool');
    expect((await run({ url: http.url('/pool'), method: 'PUT', body: '{}' })).outputs).toMatchObject({ status: 200, simulated: false });
    expect(http.count('/pool')).toBe(before + 1);
    const failure = await failureOf(run({ url: http.url('/bad-request') }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('answered 400: no such pool');
  });

  it('a URL that is a secret is masked in the outputs and errors, simulated or not', async () => {
    const token = 'T0KEN-abc123';
    const env = new MockActivityEnvironment();
    const send = (simulate: boolean) =>
      steps.run(httpRequestImpl, { url: { $secret: 'hook' }, method: 'POST' }, { env, simulate, secrets: { hook: { env: 'REBOUND_TEST_HOOK' } } });
    const everything = (failure: ApplicationFailure) => JSON.stringify([failure.message, failure.stack, failure.details, failure.type]);
    try {
      process.env.REBOUND_TEST_HOOK = http.url(`/hooks/${token}`);
      const simulated: ActionResult = await send(true);
      expect(JSON.stringify(simulated.outputs)).not.toContain(token);
      expect(simulated.outputs.body_excerpt).toBe('would send POST ***');

      // For real: the request reaches the server, whose answer echoes the token back.
      const before = http.count(`/hooks/${token}`);
      const sent: ActionResult = await send(false);
      expect(http.count(`/hooks/${token}`)).toBe(before + 1);
      expect(sent.outputs).toMatchObject({ status: 200, simulated: false, body_excerpt: 'accepted at ***' });
      expect(JSON.stringify(sent)).not.toContain(token);

      // A real request that fails: its URL and the body echoing it are in the message.
      process.env.REBOUND_TEST_HOOK = http.url('/hooks/T0KEN-fail');
      const failed = await failureOf(send(false));
      expect(http.count('/hooks/T0KEN-fail')).toBe(1);
      expect(failed.message).toMatch(/^http: step "probe": POST \*\*\* answered 500: no hook at \*\*\* — will retry/);
      expect(everything(failed)).not.toContain('T0KEN-fail');

      // A real request that reaches nobody: the network error names the URL.
      const closed = await startHttpServer();
      await closed.close();
      process.env.REBOUND_TEST_HOOK = closed.url(`/hooks/${token}`);
      const unreachable = await failureOf(send(false));
      expect(unreachable.type).toBe('unreachable');
      expect(unreachable.message).toMatch(/^http: step "probe": POST \*\*\*: ECONNREFUSED/);
      expect(everything(unreachable)).not.toContain(token);
    } finally {
      delete process.env.REBOUND_TEST_HOOK;
    }
  });

  it('simulated, it reports the request and sends nothing', async () => {
    const before = http.count('/pool');
    const result = await run({ url: `${http.url('/pool')}?token=abc`, method: 'DELETE' }, true);
    expect(result.outputs).toMatchObject({ simulated: true, body_excerpt: expect.stringMatching(/^would send DELETE http:\/\/127\.0\.0\.1:\d+\/pool\?…$/) });
    expect(http.count('/pool')).toBe(before);
  });
});
