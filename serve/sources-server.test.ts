// The PagerDuty and Grafana routes of the server in-process on loopback, against the real Temporal server: auth, replays, malformed bodies, and the same matching and dedup as Alertmanager's.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunInput } from '../contract/run.ts';
import { jsonLog } from './log.ts';
import { startServe, type RunningServe } from './server.ts';
import { grafanaBody, pagerdutyEvent } from './sources-fixtures.ts';

const suffix = randomBytes(3).toString('hex');
const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
const PD = `pd-${randomBytes(16).toString('hex')}`;
const GRAFANA = `gr-${randomBytes(16).toString('hex')}`;
const SERVICE = `orders-db-${suffix}`;
const KEYS = ['REBOUND_SERVE_TOKEN', 'REBOUND_SERVE_PAGERDUTY_SECRET', 'REBOUND_SERVE_GRAFANA_HMAC_KEY'];

function runbooks(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-sources-'));
  // No worker polls this task queue: a started run waits at its first task, which is all dedup needs.
  writeFileSync(
    join(dir, 'orders.yaml'),
    `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: orders-${suffix}}\nspec:\n  triggers: {alert: {match: {service: "/orders-db-.*/"}, dedup_key: "\${{ trigger.alert.labels.service }}"}}\n  steps:\n    - {id: gate, uses: approval, with: {timeout: 10m}}\n`,
  );
  return dir;
}

async function start(keys: Record<string, string>, client: Client, lines: string[]): Promise<RunningServe> {
  Object.assign(process.env, keys);
  try {
    const options = { runbooks: runbooks(), host: '127.0.0.1', port: 0, taskQueue: `sources-${suffix}` };
    return await startServe(
      options,
      client,
      jsonLog((line) => lines.push(line)),
    );
  } finally {
    for (const name of KEYS) delete process.env[name];
  }
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

const pdSigned = (text: string, secret = PD) => ({ 'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(text).digest('hex')}` });
const grafanaSigned = (text: string, key = GRAFANA, at = Date.now()) => {
  const stamp = String(Math.floor(at / 1000));
  return {
    authorization: `Bearer ${TOKEN}`,
    'x-grafana-alerting-timestamp': stamp,
    'x-grafana-alerting-signature': createHmac('sha256', key).update(`${stamp}:${text}`).digest('hex'),
  };
};
/** A PagerDuty event about `incident`, happening now (or `ageMs` ago), signed. */
const pd = (type: string, id: string, incident: Record<string, unknown> = {}, ageMs = 1000) => {
  const text = JSON.stringify(pagerdutyEvent(type, { id, occurredAt: new Date(Date.now() - ageMs).toISOString(), incident }));
  return { text, headers: pdSigned(text) };
};
/** Port 1 on loopback refuses connections: Temporal is "down"; no retry interceptor, so a start fails at once. */
const unreachable = () => new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] }) });
const incidentOf = (service: string) => ({ id: `P${service}`, service: { id: 'PF9KMXH', summary: service } });

describe('PagerDuty and Grafana routes, with the real Temporal server', () => {
  let serve: RunningServe;
  let client: Client;
  const lines: string[] = [];
  const run = `orders-${suffix}:alert:${SERVICE}`;

  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    serve = await start({ REBOUND_SERVE_TOKEN: TOKEN, REBOUND_SERVE_PAGERDUTY_SECRET: PD, REBOUND_SERVE_GRAFANA_HMAC_KEY: GRAFANA }, client, lines);
  });
  afterAll(async () => {
    await serve?.close();
    await client?.connection.close();
  });

  const pagerduty = () => `${serve.url}/v1/alerts/pagerduty`;
  const grafana = () => `${serve.url}/v1/alerts/grafana`;

  it('an incident.triggered starts the matching runbook, its trigger.alert from PagerDuty; the same event again starts nothing', async () => {
    const event = pd('incident.triggered', `ev-1-${suffix}`, incidentOf(SERVICE));
    const first = await post(pagerduty(), event.text, event.headers);
    expect(first).toMatchObject({ status: 202, body: { run, decisions: [{ runbook: `orders-${suffix}`, decision: 'started', fingerprint: `P${SERVICE}` }] } });
    const history = await client.workflow.getHandle(run).fetchHistory();
    const input = defaultPayloadConverter.fromPayload<RunInput>(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
    expect(input.trigger).toMatchObject({
      kind: 'alert',
      alert: { source: 'pagerduty', status: 'firing', fingerprint: `P${SERVICE}`, labels: { service: SERVICE, incident_id: `P${SERVICE}`, priority: 'P1' } },
    });
    // A replay of the delivery: answered as handled, and Temporal is not asked.
    const again = await post(pagerduty(), event.text, event.headers);
    expect(again).toEqual({ status: 200, body: { decisions: [], duplicate: true, event: `ev-1-${suffix}` } });
  });

  it('another event of the incident, and a Grafana alert with the same key, attach to that run (dedup)', async () => {
    const reopened = pd('incident.reopened', `ev-2-${suffix}`, incidentOf(SERVICE));
    expect(await post(pagerduty(), reopened.text, reopened.headers)).toMatchObject({ status: 200, body: { run, deduplicated: true } });
    const text = JSON.stringify(grafanaBody('firing', { alertname: 'OrdersDown', service: SERVICE }));
    expect(await post(grafana(), text, grafanaSigned(text))).toMatchObject({ status: 200, body: { run, deduplicated: true } });
  });

  it('resolved starts nothing; acknowledged and the other events are 200 with why they were ignored', async () => {
    const resolved = pd('incident.resolved', `ev-3-${suffix}`, incidentOf(SERVICE));
    expect(await post(pagerduty(), resolved.text, resolved.headers)).toMatchObject({ status: 200, body: { decisions: [{ decision: 'resolved' }] } });
    const acknowledged = pd('incident.acknowledged', `ev-4-${suffix}`, incidentOf(SERVICE));
    const answer = await post(pagerduty(), acknowledged.text, acknowledged.headers);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ decisions: [], ignored: expect.stringMatching(/^incident\.acknowledged neither opens nor closes an incident/) });
    const unmatched = pd('incident.triggered', `ev-5-${suffix}`, incidentOf(`billing-${suffix}`));
    expect(await post(pagerduty(), unmatched.text, unmatched.headers)).toMatchObject({ status: 200, body: { decisions: [{ decision: 'unmatched' }] } });
  });

  it('PagerDuty: a bad or missing signature is 401 without detail; an event over 30 minutes old is answered 200, ignored, saying so', async () => {
    const event = pd('incident.triggered', `ev-6-${suffix}`, incidentOf(`orders-db-bad-${suffix}`));
    expect(await post(pagerduty(), event.text, pdSigned(event.text, `pd-${'0'.repeat(32)}`))).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await post(pagerduty(), event.text, {})).toEqual({ status: 401, body: { error: 'unauthorized' } });
    // Rebound's own token does not open it.
    expect(await post(pagerduty(), event.text, { authorization: `Bearer ${TOKEN}` })).toEqual({ status: 401, body: { error: 'unauthorized' } });
    // A captured delivery replayed later: correctly signed, but its event is old.
    const old = pd('incident.triggered', `ev-7-${suffix}`, incidentOf(`orders-db-old-${suffix}`), 31 * 60_000);
    const stale = await post(pagerduty(), old.text, old.headers);
    // 2xx, so PagerDuty does not count it towards disabling the webhook; it starts nothing.
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ decisions: [] });
    expect(stale.body.ignored).toMatch(/^event ev-7-\w+ occurred 31 minutes ago; events older than 30 minutes are refused as replays$/);
    const ahead = pd('incident.triggered', `ev-8-${suffix}`, incidentOf(`orders-db-ahead-${suffix}`), -10 * 60_000);
    expect(await post(pagerduty(), ahead.text, ahead.headers)).toMatchObject({ status: 200, body: { decisions: [] } });
  });

  it("PagerDuty: an incident Rebound opened (incident_key rebound:…) starts no run, so a run's own page cannot start another", async () => {
    const incident = { ...incidentOf(`orders-db-own-${suffix}`), incident_key: 'rebound:orders' };
    const event = pd('incident.triggered', `ev-9-${suffix}`, incident);
    const answer = await post(pagerduty(), event.text, event.headers);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ decisions: [], ignored: expect.stringMatching(/was opened by Rebound \(incident_key rebound:orders\)/) });
  });

  it('PagerDuty: a signed body that is not a v3 event is 400 saying what is wrong', async () => {
    const text = JSON.stringify({ messages: [{ event: 'incident.trigger' }] });
    expect(await post(pagerduty(), text, pdSigned(text))).toEqual({
      status: 400,
      body: { error: 'invalid payload: event: expected a PagerDuty webhook v3 body: {"event": {"id", "event_type", "occurred_at", "data"}}' },
    });
    expect(await post(pagerduty(), '{"event":', pdSigned('{"event":'))).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^malformed JSON/) },
    });
  });

  it('Grafana: a new alert starts a run, resolved starts nothing; bad, old or unsigned requests are 401; malformed 400', async () => {
    const service = `orders-db-grafana-${suffix}`;
    const text = JSON.stringify(grafanaBody('firing', { alertname: 'OrdersDown', service }));
    expect(await post(grafana(), text, grafanaSigned(text))).toMatchObject({
      status: 202,
      body: { run: `orders-${suffix}:alert:${service}`, decisions: [{ decision: 'started', fingerprint: 'c6eadffa33fcdf37' }] },
    });
    const resolved = JSON.stringify(grafanaBody('resolved', { alertname: 'OrdersDown', service }));
    expect(await post(grafana(), resolved, grafanaSigned(resolved))).toMatchObject({ status: 200, body: { decisions: [{ decision: 'resolved' }] } });
    const unauthorized = { status: 401, body: { error: 'unauthorized' } };
    expect(await post(grafana(), text, grafanaSigned(text, `gr-${'0'.repeat(32)}`))).toEqual(unauthorized);
    expect(await post(grafana(), text, grafanaSigned(text, GRAFANA, Date.now() - 6 * 60_000))).toEqual(unauthorized);
    expect(await post(grafana(), text, { ...grafanaSigned(text), authorization: 'Bearer wrong' })).toEqual(unauthorized);
    expect(await post(grafana(), text, { authorization: `Bearer ${TOKEN}` })).toEqual(unauthorized);
    const custom = JSON.stringify({ ...grafanaBody(), version: '4' });
    expect(await post(grafana(), custom, grafanaSigned(custom))).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/version: only Grafana webhook version "1"/) },
    });
  });

  it('counts and logs each source under its own route label, secrets in no line', async () => {
    const text = await (await fetch(`${serve.url}/metrics`)).text();
    expect(text).toMatch(/rebound_alerts_received_total\{route="pagerduty"\} [1-9]/);
    expect(text).toMatch(/rebound_alerts_received_total\{route="grafana"\} [1-9]/);
    expect(text).toContain('rebound_alert_requests_refused_total{route="pagerduty",reason="stale"} 2');
    expect(text).toContain('rebound_alert_requests_refused_total{route="grafana",reason="unauthorized"} 4');
    const log = lines.join('');
    for (const secret of [TOKEN, PD, GRAFANA]) expect(log).not.toContain(secret);
  });
});

describe('PagerDuty and Grafana routes, without their keys and with Temporal unreachable', () => {
  let serve: RunningServe;
  let client: Client;
  const lines: string[] = [];

  beforeAll(async () => {
    client = unreachable();
    serve = await start({ REBOUND_SERVE_TOKEN: TOKEN }, client, lines);
  });
  afterAll(async () => {
    await serve?.close();
  });

  it('no PagerDuty secret: the route refuses everything, however it is signed', async () => {
    const event = pd('incident.triggered', `ev-9-${suffix}`, incidentOf(SERVICE));
    expect(await post(`${serve.url}/v1/alerts/pagerduty`, event.text, { ...event.headers, authorization: `Bearer ${TOKEN}` })).toEqual({
      status: 401,
      body: { error: 'unauthorized' },
    });
  });

  it('no Grafana key: the bearer token is the check; a start that fails is 503 (Grafana retries)', async () => {
    const text = JSON.stringify(grafanaBody('firing', { alertname: 'OrdersDown', service: SERVICE }));
    expect((await post(`${serve.url}/v1/alerts/grafana`, text, {})).status).toBe(401);
    const answer = await post(`${serve.url}/v1/alerts/grafana`, text, { authorization: `Bearer ${TOKEN}` });
    expect(answer).toMatchObject({ status: 503, body: { decisions: [{ decision: 'error' }] } });
  });
});

describe('a PagerDuty event answered 503', () => {
  let serve: RunningServe;
  let client: Client;

  beforeAll(async () => {
    client = unreachable();
    serve = await start({ REBOUND_SERVE_PAGERDUTY_SECRET: PD }, client, []);
  });
  afterAll(async () => {
    await serve?.close();
  });

  it('is not remembered: its retry, same event id, is tried again rather than answered as a duplicate', async () => {
    const event = pd('incident.triggered', `ev-10-${suffix}`, incidentOf(SERVICE));
    const url = `${serve.url}/v1/alerts/pagerduty`;
    expect(await post(url, event.text, event.headers)).toMatchObject({ status: 503, body: { decisions: [{ decision: 'error' }] } });
    expect(await post(url, event.text, event.headers)).toMatchObject({ status: 503, body: { decisions: [{ decision: 'error' }] } });
  });
});
