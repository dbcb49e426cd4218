// Unit tests of the receiver's pieces: auth, payload parsing, matching and templating, response shapes.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import { alertWorkflowId } from '../client/dedup.ts';
import { AuthConfigError, authenticate, loadAuthKeys } from './auth.ts';
import { bodyOf, statusOf } from './decide.ts';
import { alertStart, AlertInputError, compileMatchers, matches } from './match.ts';
import { parseAlertmanager, parseGeneric, PayloadError } from './payload.ts';

const body = Buffer.from('{"labels":{"alertname":"X"}}');
const sign = (key: string, data: Buffer) => `sha256=${createHmac('sha256', key).update(data).digest('hex')}`;

describe('auth', () => {
  it('needs at least one key, read from the environment or a file', () => {
    expect(() => loadAuthKeys({})).toThrow(AuthConfigError);
    expect(loadAuthKeys({ REBOUND_SERVE_TOKEN: 't' })).toEqual({ token: 't', hmacKey: undefined });
    expect(() => loadAuthKeys({ REBOUND_SERVE_HMAC_KEY_FILE: '/nonexistent/key' })).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('checks every configured credential', () => {
    const keys = { token: 'secret-token', hmacKey: 'secret-key' };
    const good = { authorization: 'Bearer secret-token', 'x-rebound-signature': sign('secret-key', body) };
    expect(authenticate(keys, good, body)).toBe(true);
    expect(authenticate(keys, { ...good, authorization: 'Bearer nope' }, body)).toBe(false);
    expect(authenticate(keys, { ...good, 'x-rebound-signature': sign('other', body) }, body)).toBe(false);
    expect(authenticate(keys, good, Buffer.from('{"labels":{}}'))).toBe(false);
    expect(authenticate({ token: 't' }, {}, body)).toBe(false);
    expect(authenticate({ hmacKey: 'k' }, { 'x-rebound-signature': sign('k', body).toUpperCase().replace('SHA256', 'sha256') }, body)).toBe(true);
  });
});

describe('payloads', () => {
  it('reads Alertmanager v4: common labels under each alert, its fingerprint', () => {
    const alerts = parseAlertmanager(
      Buffer.from(
        JSON.stringify({
          version: '4',
          commonLabels: { env: 'prod' },
          alerts: [{ status: 'firing', labels: { alertname: 'A' }, startsAt: '2026-01-01T00:00:00Z', fingerprint: 'f1' }],
        }),
      ),
    );
    expect(alerts).toEqual([
      {
        status: 'firing',
        labels: { env: 'prod', alertname: 'A' },
        annotations: {},
        starts_at: '2026-01-01T00:00:00Z',
        fingerprint: 'f1',
        source: 'alertmanager',
      },
    ]);
  });

  it('says what is wrong', () => {
    expect(() => parseAlertmanager(Buffer.from('{'))).toThrow(/malformed JSON/);
    expect(() => parseAlertmanager(Buffer.from('{"version":"3","alerts":[]}'))).toThrow(
      /version: only Alertmanager webhook version "4".*alerts: alerts is empty/,
    );
    expect(() => parseGeneric(Buffer.from('{"labels":{"a":1}}'))).toThrow(PayloadError);
    expect(() => parseGeneric(Buffer.alloc(0))).toThrow(/empty body/);
    expect(parseGeneric(body)[0]).toMatchObject({ status: 'firing', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});

describe('matching', () => {
  const plan = compile(
    `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: m}\nspec:\n  parameters: {n: {type: number, required: true}}\n  triggers:\n    alert: {match: {alertname: "/Orders.*/", env: prod}, params: {n: "\${{ trigger.alert.labels.n }}"}, dedup_key: "svc-\${{ trigger.alert.labels.service }}"}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n`,
    { file: 'm.yaml' },
  ).plan!;
  const alert = (labels: Record<string, string>) => ({
    status: 'firing' as const,
    labels,
    annotations: {},
    starts_at: '',
    fingerprint: 'f',
    source: 'generic' as const,
  });

  it('matches exact values and anchored regexes', () => {
    const matchers = compileMatchers(plan.triggers.alert!.match);
    expect(matches(matchers, alert({ alertname: 'OrdersDown', env: 'prod' }))).toBe(true);
    expect(matches(matchers, alert({ alertname: 'XOrdersDown', env: 'prod' }))).toBe(false);
    expect(matches(matchers, alert({ alertname: 'OrdersDown' }))).toBe(false);
  });

  it('fills params and the dedup key from the alert, and says which label is missing', () => {
    expect(alertStart(plan, plan.triggers.alert!, alert({ n: '3', service: 'orders' }))).toMatchObject({ params: { n: 3 }, key: 'svc-orders' });
    expect(() => alertStart(plan, plan.triggers.alert!, alert({ n: '3' }))).toThrow(AlertInputError);
    expect(() => alertStart(plan, plan.triggers.alert!, alert({ n: 'x', service: 's' }))).toThrow(/parameter "n" must be a number/);
  });

  it('derives a stable, valid workflow id from runbook and key', () => {
    expect(alertWorkflowId('rb', 'orders')).toBe('rb:alert:orders');
    expect(alertWorkflowId('rb', '')).toBe('rb:alert');
    expect(alertWorkflowId('rb', 'a b/c')).toMatch(/^rb:alert:sha256-[0-9a-f]{32}$/);
    expect(alertWorkflowId('rb', 'a b/c')).toBe(alertWorkflowId('rb', 'a b/c'));
  });
});

describe('responses', () => {
  it('202 for a new run, 200 for duplicates and suppressions, 503 when Temporal failed, 400 when nothing was usable', () => {
    expect(
      statusOf([
        { decision: 'started', fingerprint: 'f' },
        { decision: 'deduplicated', fingerprint: 'g' },
      ]),
    ).toBe(202);
    expect(statusOf([{ decision: 'deduplicated', fingerprint: 'f' }])).toBe(200);
    expect(statusOf([{ decision: 'error', fingerprint: 'f' }])).toBe(503);
    expect(statusOf([{ decision: 'invalid', fingerprint: 'f' }])).toBe(400);
    expect(statusOf([])).toBe(200);
    expect(bodyOf([{ decision: 'deduplicated', fingerprint: 'f', run: 'r' }])).toMatchObject({ run: 'r', deduplicated: true });
    expect(bodyOf([{ decision: 'suppressed', fingerprint: 'f', run: 'r', until: 'u' }])).toMatchObject({ suppressed: 'r', until: 'u' });
  });
});
