// Unit tests of the PagerDuty and Grafana sources: their signatures, their bodies as AlertInfo, and the memory of PagerDuty's event ids.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import { authenticate, authenticateGrafana, authenticatePagerDuty, loadAuthKeys } from './auth.ts';
import { compileMatchers, matches } from './match.ts';
import { parseGrafana } from './payload-grafana.ts';
import { parsePagerDuty } from './payload-pagerduty.ts';
import { PayloadError } from './payload.ts';
import { EVENT_MAX_AGE_MS, RecentEvents } from './replay.ts';
import { grafanaBody, pagerdutyEvent } from './sources-fixtures.ts';

const TOKEN = 'secret-token-0123456789abcdef0123456789';
const PD = 'pagerduty-secret-0123456789abcdef012345';
const GRAFANA = 'grafana-key-0123456789abcdef0123456789';
const now = Date.parse('2026-06-01T12:00:00Z');
const hex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');

describe('PagerDuty signatures', () => {
  const body = Buffer.from(JSON.stringify(pagerdutyEvent('incident.triggered')));
  const keys = { pagerdutySecret: PD };

  it('accepts v1=<hex HMAC-SHA256 of the body>, any one of several (a secret being rotated)', () => {
    const signature = `v1=${hex(PD, body.toString())}`;
    expect(authenticatePagerDuty(keys, { 'x-pagerduty-signature': signature }, body)).toBe(true);
    expect(authenticatePagerDuty(keys, { 'x-pagerduty-signature': `v1=${hex('old-secret', body.toString())},${signature}` }, body)).toBe(true);
    expect(
      authenticatePagerDuty(
        keys,
        { 'x-pagerduty-signature': `v1=${hex('old-secret', body.toString())}, ${signature.toUpperCase().replace('V1', 'v1')}` },
        body,
      ),
    ).toBe(true);
  });

  it('refuses another secret, another body, another version, no header, and everything when no secret is set', () => {
    const signature = `v1=${hex(PD, body.toString())}`;
    expect(authenticatePagerDuty(keys, { 'x-pagerduty-signature': `v1=${hex('other', body.toString())}` }, body)).toBe(false);
    expect(authenticatePagerDuty(keys, { 'x-pagerduty-signature': signature }, Buffer.from(`${body} `))).toBe(false);
    expect(authenticatePagerDuty(keys, { 'x-pagerduty-signature': signature.replace('v1=', 'v0=') }, body)).toBe(false);
    expect(authenticatePagerDuty(keys, {}, body)).toBe(false);
    expect(authenticatePagerDuty({ token: TOKEN }, { 'x-pagerduty-signature': signature, authorization: `Bearer ${TOKEN}` }, body)).toBe(false);
    // The Rebound token does not open the PagerDuty route, and PagerDuty's secret opens no other.
    expect(authenticate({ pagerdutySecret: PD }, { 'x-pagerduty-signature': signature }, body)).toBe(false);
  });

  it('loads the secret (and Grafana’s key) from the environment or a _FILE, at least 32 bytes, and serve may start with only them', () => {
    expect(loadAuthKeys({ REBOUND_SERVE_PAGERDUTY_SECRET: PD })).toEqual({ pagerdutySecret: PD });
    expect(loadAuthKeys({ REBOUND_SERVE_GRAFANA_HMAC_KEY: GRAFANA })).toEqual({ grafanaKey: GRAFANA });
    expect(() => loadAuthKeys({ REBOUND_SERVE_PAGERDUTY_SECRET: 'short' })).toThrow(/REBOUND_SERVE_PAGERDUTY_SECRET is 5 bytes long; it must be at least 32/);
    expect(() => loadAuthKeys({ REBOUND_SERVE_GRAFANA_HMAC_KEY_FILE: '/nonexistent/key' })).toThrow(/REBOUND_SERVE_GRAFANA_HMAC_KEY_FILE names .*\(ENOENT\)/);
  });
});

describe('Grafana signatures', () => {
  const body = Buffer.from(JSON.stringify(grafanaBody()));
  const stamp = (ms: number) => String(Math.floor(ms / 1000));
  const signed = (key: string, at = now, data = body) => ({
    'x-grafana-alerting-signature': hex(key, `${stamp(at)}:${data}`),
    'x-grafana-alerting-timestamp': stamp(at),
  });

  it('accepts hex HMAC-SHA256 of "<timestamp>:<body>" in either header name Grafana uses, inside 5 minutes', () => {
    expect(authenticateGrafana({ grafanaKey: GRAFANA }, signed(GRAFANA), body, now)).toBe(true);
    const other = { 'x-grafana-alert-signature': signed(GRAFANA)['x-grafana-alerting-signature'], 'x-grafana-alerting-timestamp': stamp(now) };
    expect(authenticateGrafana({ grafanaKey: GRAFANA }, other, body, now)).toBe(true);
    expect(authenticateGrafana({ grafanaKey: GRAFANA }, signed(GRAFANA, now - 4 * 60_000), body, now)).toBe(true);
  });

  it('refuses a replay outside the window, a moved timestamp, a body-only signature, another key', () => {
    const keys = { grafanaKey: GRAFANA };
    const captured = signed(GRAFANA, now - 6 * 60_000);
    expect(authenticateGrafana(keys, captured, body, now)).toBe(false);
    expect(authenticateGrafana(keys, { ...captured, 'x-grafana-alerting-timestamp': stamp(now) }, body, now)).toBe(false);
    // Without a timestamp header Grafana signs the body alone: that could be replayed forever.
    expect(authenticateGrafana(keys, { 'x-grafana-alerting-signature': hex(GRAFANA, body.toString()) }, body, now)).toBe(false);
    expect(authenticateGrafana(keys, signed('another-key-0123456789abcdef0123456789'), body, now)).toBe(false);
    expect(authenticateGrafana(keys, signed(GRAFANA, now, Buffer.from('{}')), body, now)).toBe(false);
  });

  it('the bearer token when one is set, both when both are; never open; REBOUND_SERVE_HMAC_KEY asks for Grafana’s key', () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect(authenticateGrafana({ token: TOKEN }, bearer, body, now)).toBe(true);
    expect(authenticateGrafana({ token: TOKEN }, { authorization: 'Bearer nope' }, body, now)).toBe(false);
    expect(authenticateGrafana({ token: TOKEN, grafanaKey: GRAFANA }, bearer, body, now)).toBe(false);
    expect(authenticateGrafana({ token: TOKEN, grafanaKey: GRAFANA }, { ...bearer, ...signed(GRAFANA) }, body, now)).toBe(true);
    expect(authenticateGrafana({ pagerdutySecret: PD }, {}, body, now)).toBe(false);
    expect(authenticateGrafana({ token: TOKEN, hmacKey: 'rebound-key-0123456789abcdef0123456789' }, bearer, body, now)).toBe(false);
  });
});

describe('PagerDuty bodies', () => {
  const parse = (value: unknown) => parsePagerDuty(Buffer.from(JSON.stringify(value)));

  it('incident.triggered is a firing alert: service, ids, urgency, priority and teams as labels; title and links as annotations', () => {
    const { alerts, event, ignored } = parse(pagerdutyEvent('incident.triggered'));
    expect(ignored).toBeUndefined();
    expect(event).toEqual({ id: '5ac64822-4adc-4fda-ade0-410becf0de4f', occurredAt: Date.parse('2026-06-01T11:59:30.169Z') });
    expect(alerts).toEqual([
      {
        status: 'firing',
        labels: {
          alertname: 'Orders primary down',
          service: 'orders-db',
          pagerduty_service_id: 'PF9KMXH',
          incident_id: 'PGR0VU2',
          incident_key: 'd3640fbd41094207a1c11e58e46b1662',
          urgency: 'high',
          priority: 'P1',
          escalation_policy: 'Default',
          teams: 'Engineering,DBA',
        },
        annotations: {
          title: 'Orders primary down',
          html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
          incident_number: '2',
          incident_status: 'triggered',
          event_type: 'incident.triggered',
          event_id: '5ac64822-4adc-4fda-ade0-410becf0de4f',
          occurred_at: '2026-06-01T11:59:30.169Z',
          agent: 'Tenex Engineer',
        },
        starts_at: '2026-06-01T11:59:27Z',
        fingerprint: 'PGR0VU2',
        source: 'pagerduty',
      },
    ]);
  });

  it('reopened fires and resolved resolves, as the same alert (fingerprint: the incident id)', () => {
    expect(parse(pagerdutyEvent('incident.reopened')).alerts[0]).toMatchObject({ status: 'firing', fingerprint: 'PGR0VU2' });
    expect(parse(pagerdutyEvent('incident.resolved')).alerts[0]).toMatchObject({ status: 'resolved', fingerprint: 'PGR0VU2' });
  });

  it('events that neither open nor close an incident are ignored, with the reason, and still numbered', () => {
    for (const type of ['incident.acknowledged', 'incident.annotated', 'incident.priority_updated', 'incident.escalated', 'pagey.ping', 'service.updated']) {
      const parsed = parse({ event: { ...pagerdutyEvent(type).event, data: { id: 'x', type: 'whatever' } } });
      expect(parsed.alerts).toEqual([]);
      expect(parsed.ignored).toMatch(new RegExp(`^${type.replace('.', '\\.')} neither opens nor closes an incident`));
      expect(parsed.event?.id).toBe('5ac64822-4adc-4fda-ade0-410becf0de4f');
    }
  });

  it('a quiet incident (no priority, teams or key) still has every label, empty', () => {
    const { alerts } = parse(
      pagerdutyEvent('incident.triggered', { incident: { priority: null, teams: [], incident_key: null, escalation_policy: undefined } }),
    );
    expect(alerts[0]!.labels).toMatchObject({ priority: '', teams: '', incident_key: '', escalation_policy: '' });
  });

  it('says what is wrong: not v3, no event id or time, no incident id', () => {
    expect(() => parse({ messages: [] })).toThrow(/invalid payload: event: expected a PagerDuty webhook v3 body/);
    expect(() => parse({ event: { ...pagerdutyEvent('incident.triggered').event, id: 7 } })).toThrow(/event\.id: expected the event id/);
    expect(() => parse({ event: { ...pagerdutyEvent('incident.triggered').event, occurred_at: 'yesterday' } })).toThrow(
      /event\.occurred_at: expected an ISO 8601 time/,
    );
    expect(() => parse(pagerdutyEvent('incident.triggered', { incident: { id: '' } }))).toThrow(/event\.data\.id: the incident id is empty/);
    expect(() => parse({ event: { ...pagerdutyEvent('incident.resolved').event, data: null } })).toThrow(/event\.data: expected the incident/);
    expect(() => parsePagerDuty(Buffer.from('{'))).toThrow(PayloadError);
  });

  it('its labels are what runbooks match on', () => {
    const { alerts } = parse(pagerdutyEvent('incident.triggered'));
    expect(matches(compileMatchers({ service: 'orders-db', priority: '/P[12]/' }), alerts[0]!)).toBe(true);
    expect(matches(compileMatchers({ service: 'orders-db', urgency: 'low' }), alerts[0]!)).toBe(false);
  });
});

describe('Grafana bodies', () => {
  const parse = (value: unknown) => parseGrafana(Buffer.from(JSON.stringify(value)));

  it('reads each alert as Alertmanager’s: common labels under its own, its fingerprint; links and values as annotations', () => {
    const { alerts } = parse(grafanaBody());
    expect(alerts).toEqual([
      {
        status: 'firing',
        labels: { team: 'blue', alertname: 'High memory usage', zone: 'us-1' },
        annotations: {
          summary: 'This alert was triggered for zone us-1',
          generator_url: 'https://grafana.example/alerting/1afz29v7z/edit',
          silence_url: 'https://grafana.example/alerting/silence/new',
          value_string: "[ var='B' labels={} value=44.23943737541908 ]",
          value_B: '44.23943737541908',
          value_C: '1',
        },
        starts_at: '2026-06-01T11:51:03.157076+02:00',
        fingerprint: 'c6eadffa33fcdf37',
        source: 'grafana',
      },
    ]);
    expect(parse(grafanaBody('resolved')).alerts[0]!.status).toBe('resolved');
  });

  it('the rule’s own annotation wins over a derived one; no values (null) and no fingerprint are fine', () => {
    const body = grafanaBody();
    Object.assign(body.alerts[0]!, { annotations: { value_B: 'mine' }, values: null, fingerprint: '' });
    const [alert] = parse(body).alerts;
    expect(alert!.annotations.value_B).toBe('mine');
    expect(alert!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('says what is wrong: a custom payload, an Alertmanager body, no alerts, numeric labels', () => {
    expect(() => parse({ text: 'custom template output' })).toThrow(/alerts: Invalid input/);
    expect(() => parse({ ...grafanaBody(), version: '4' })).toThrow(/version: only Grafana webhook version "1"/);
    expect(() => parse({ ...grafanaBody(), alerts: [] })).toThrow(/alerts: alerts is empty/);
    expect(() => parse({ ...grafanaBody(), alerts: [{ status: 'firing', labels: { n: 1 } }] })).toThrow(/alerts\.0\.labels\.n: /);
    expect(() => parse({ ...grafanaBody(), alerts: [{ status: 'alerting', labels: {} }] })).toThrow(/alerts\.0\.status: /);
  });

  it('matches a runbook’s matchers as an Alertmanager alert would', () => {
    const plan = compile(
      'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: g}\nspec:\n  triggers: {alert: {match: {alertname: "/High.*/", team: blue}}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n',
      { file: 'g.yaml' },
    ).plan!;
    expect(matches(compileMatchers(plan.triggers.alert!.match), parse(grafanaBody()).alerts[0]!)).toBe(true);
  });
});

describe('the memory of PagerDuty event ids', () => {
  const event = (id: string, at = now - 60_000) => ({ id, occurredAt: at });

  it('an event seen is seen until it is too old to pass anyway; per route', () => {
    const events = new RecentEvents();
    expect(events.check('pagerduty', event('a'), now)).toEqual({ seen: false });
    events.remember('pagerduty', event('a'), now);
    expect(events.check('pagerduty', event('a'), now)).toEqual({ seen: true });
    expect(events.check('other', event('a'), now)).toEqual({ seen: false });
    expect(events.check('pagerduty', event('a'), now + EVENT_MAX_AGE_MS)).toMatchObject({ refused: expect.stringMatching(/older than 30 minutes/) });
  });

  it('refuses an event over 30 minutes old or over 5 minutes ahead, saying so', () => {
    const events = new RecentEvents();
    expect(events.check('pagerduty', event('old', now - 31 * 60_000), now)).toEqual({
      refused: 'event old occurred 31 minutes ago; events older than 30 minutes are refused as replays',
    });
    expect(events.check('pagerduty', event('late', now - 29 * 60_000), now)).toEqual({ seen: false });
    expect(events.check('pagerduty', event('ahead', now + 6 * 60_000), now)).toMatchObject({ refused: expect.stringMatching(/6 minutes ahead/) });
    expect(events.check('pagerduty', event('skew', now + 4 * 60_000), now)).toEqual({ seen: false });
  });

  it('holds at most its capacity: expired ids go first, then the longest held', () => {
    const events = new RecentEvents(3);
    events.remember('p', event('expired', now - 29 * 60_000), now);
    events.remember('p', event('b'), now);
    events.remember('p', event('c'), now);
    events.remember('p', event('d'), now + 2 * 60_000);
    expect(events.size).toBe(3);
    expect(events.check('p', event('b'), now + 2 * 60_000)).toEqual({ seen: true });
    events.remember('p', event('e'), now + 2 * 60_000);
    expect(events.size).toBe(3);
    expect(events.check('p', event('b'), now + 2 * 60_000)).toEqual({ seen: false });
    expect(events.check('p', event('e'), now + 2 * 60_000)).toEqual({ seen: true });
  });
});
