// The server in-process over HTTPS with Temporal unreachable: health, readiness, limits, auth, and 503 (retry) when no run can start.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLog } from './log.ts';
import { startServe, type RunningServe } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'rebound-serve-unit-'));
const lines: string[] = [];
const TOKEN = 'unit-token-0123456789abcdef0123456789';

describe('startServe over HTTPS, Temporal unreachable', () => {
  let serve: RunningServe;
  let client: Client;
  let agent: Agent;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      {
        stdio: 'ignore',
      },
    );
    writeFileSync(
      join(dir, 'primary.yaml'),
      'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: primary}\nspec:\n  triggers: {alert: {match: {db: "/.*db.*primary/"}}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n',
    );
    writeFileSync(
      join(dir, 'many.yaml'),
      'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: many}\nspec:\n  triggers: {alert: {match: {alertname: Many}, dedup_key: "${{ trigger.alert.labels.service }}"}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n',
    );
    writeFileSync(
      join(dir, 'down.yaml'),
      'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: down}\nspec:\n  triggers: {alert: {match: {alertname: Down}}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n',
    );
    process.env.REBOUND_SERVE_TOKEN = TOKEN;
    // Port 1 on loopback refuses connections: Temporal is "down".
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const options = {
      runbooks: dir,
      host: '127.0.0.1',
      port: 0,
      taskQueue: 'unit',
      tlsCert: join(dir, 'cert.pem'),
      tlsKey: join(dir, 'key.pem'),
      metricsAuth: true,
    };
    serve = await startServe(
      options,
      client,
      jsonLog((line) => lines.push(line)),
    );
    agent = new Agent({ connect: { ca: readFileSync(join(dir, 'cert.pem')) } });
  });
  afterAll(async () => {
    await serve?.close();
    await agent?.close();
    delete process.env.REBOUND_SERVE_TOKEN;
  });

  const post = (body: string, token = TOKEN, route = '/v1/alerts') =>
    fetch(`${serve.url}${route}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });

  it('answers health over HTTPS, and is not ready without Temporal', async () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${serve.url}/healthz`, { dispatcher: agent })).status).toBe(200);
    const ready = await fetch(`${serve.url}/readyz`, { dispatcher: agent });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, problems: ['Temporal is not reachable'], runbooks: ['down', 'many', 'primary'] });
  });

  it('refuses before matching: 401 without detail, 413 over 1 MB', async () => {
    const denied = await post('{"labels":{"alertname":"Down"}}', 'wrong');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'unauthorized' });
    expect((await post(JSON.stringify({ labels: { alertname: 'Down' }, pad: 'x'.repeat(1024 * 1024) }))).status).toBe(413);
    // Refused by Fastify before the handler: still labelled by route, so a caller cannot mint a metric series per path.
    expect((await post(JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }), TOKEN, '/v1/approvals/run-x1/step-y1')).status).toBe(413);
    expect(lines.join('')).not.toContain(TOKEN);
  });

  it('refuses a 200 KB label (413) before any regex sees it, and /healthz answers meanwhile', async () => {
    const huge = post(JSON.stringify({ labels: { alertname: 'Big', db: 'db'.repeat(100_000) } }));
    const health = fetch(`${serve.url}/healthz`, { dispatcher: agent });
    const [answer, healthz] = await Promise.all([huge, health]);
    expect(healthz.status).toBe(200);
    expect(answer.status).toBe(413);
    expect(await answer.json()).toEqual({ error: 'alerts[0].labels.db is 200000 bytes; the limit is 8192' });
  });

  it('refuses (429) a request that would start more runs than the cap, and starts none of them', async () => {
    const alerts = Array.from({ length: 11 }, (_, i) => ({ status: 'firing', labels: { alertname: 'Many', service: `s${i}` } }));
    const answer = await post(JSON.stringify({ version: '4', alerts }), TOKEN, '/v1/alerts/alertmanager');
    expect(answer.status).toBe(429);
    expect(await answer.json()).toEqual({ error: 'this request would start 11 runs; the limit is 10 per request' });
    const fewer = await post(JSON.stringify({ version: '4', alerts: alerts.slice(0, 10) }), TOKEN, '/v1/alerts/alertmanager');
    expect(fewer.status).toBe(503);
  });

  it('/metrics asks for the token when told to', async () => {
    expect((await fetch(`${serve.url}/metrics`, { dispatcher: agent })).status).toBe(401);
    const metrics = await fetch(`${serve.url}/metrics`, { dispatcher: agent, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('rebound_alert_requests_refused_total{route="generic",reason="too_large"}');
    expect(text).toContain('rebound_alert_requests_refused_total{route="approvals",reason="too_large"}');
    expect(text).not.toContain('run-x1');
  });

  it('answers 503 (so the sender retries) when the run cannot be started', async () => {
    const answer = await post('{"labels":{"alertname":"Down"}}');
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ decisions: [{ runbook: 'down', decision: 'error' }] });
    expect(lines.some((l) => l.includes('"decision":"error"'))).toBe(true);
  });
});
