// Unit tests of the receiver's pieces: auth, payload parsing, matching and templating, response shapes.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import { alertWorkflowId } from '../client/dedup.ts';
import { AuthConfigError, authenticate, loadAuthKeys } from './auth.ts';
import { bodyOf, statusOf } from './decide.ts';
import { checkLimits, DEFAULT_LIMITS, LimitError } from './limits.ts';
import { jsonLog } from './log.ts';
import { alertStart, AlertInputError, compileMatchers, matches } from './match.ts';
import { parseAlertmanager, parseGeneric, PayloadError } from './payload.ts';

const body = Buffer.from('{"labels":{"alertname":"X"}}');
const TOKEN = 'secret-token-0123456789abcdef0123456789';
const KEY = 'secret-key-0123456789abcdef0123456789ab';
const now = Date.parse('2026-06-01T12:00:00Z');
const stamp = (ms: number) => String(Math.floor(ms / 1000));
const sign = (key: string, data: Buffer, at = now) =>
  `sha256=${createHmac('sha256', key)
    .update(`${stamp(at)}.`)
    .update(data)
    .digest('hex')}`;
const signed = (key: string, data: Buffer, at = now) => ({ 'x-rebound-signature': sign(key, data, at), 'x-rebound-timestamp': stamp(at) });

describe('auth', () => {
  it('needs at least one key, read from the environment or a file', () => {
    expect(() => loadAuthKeys({})).toThrow(AuthConfigError);
    expect(loadAuthKeys({ REBOUND_SERVE_TOKEN: TOKEN })).toEqual({ token: TOKEN, hmacKey: undefined });
    expect(() => loadAuthKeys({ REBOUND_SERVE_HMAC_KEY_FILE: '/nonexistent/key' })).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('refuses tokens and keys shorter than 32 bytes, without saying them', () => {
    expect(() => loadAuthKeys({ REBOUND_SERVE_TOKEN: 't' })).toThrow(/REBOUND_SERVE_TOKEN is 1 byte long; it must be at least 32/);
    expect(() => loadAuthKeys({ REBOUND_SERVE_TOKEN: TOKEN, REBOUND_SERVE_HMAC_KEY: 'short-key' })).toThrow(/REBOUND_SERVE_HMAC_KEY is 9 bytes long/);
    expect(() => loadAuthKeys({ REBOUND_SERVE_HMAC_KEY: 'short-key' })).not.toThrow(/short-key/);
  });

  it('checks every configured credential', () => {
    const keys = { token: TOKEN, hmacKey: KEY };
    const good = { authorization: `Bearer ${TOKEN}`, ...signed(KEY, body) };
    expect(authenticate(keys, good, body, now)).toBe(true);
    expect(authenticate(keys, { ...good, authorization: 'Bearer nope' }, body, now)).toBe(false);
    expect(authenticate(keys, { ...good, ...signed('other', body) }, body, now)).toBe(false);
    expect(authenticate(keys, good, Buffer.from('{"labels":{}}'), now)).toBe(false);
    expect(authenticate({ token: TOKEN }, {}, body, now)).toBe(false);
    const upper = { ...signed(KEY, body), 'x-rebound-signature': sign(KEY, body).toUpperCase().replace('SHA256', 'sha256') };
    expect(authenticate({ hmacKey: KEY }, upper, body, now)).toBe(true);
  });

  it('signatures cover a timestamp: outside the 5 minute window, without one, or with it altered, they are refused', () => {
    const keys = { hmacKey: KEY };
    expect(authenticate(keys, signed(KEY, body, now - 4 * 60_000), body, now)).toBe(true);
    // A replay: the same signed request, sent again later.
    const captured = signed(KEY, body, now - 6 * 60_000);
    expect(authenticate(keys, captured, body, now)).toBe(false);
    expect(authenticate(keys, signed(KEY, body, now + 6 * 60_000), body, now)).toBe(false);
    // Moving the timestamp into the window breaks the signature.
    expect(authenticate(keys, { ...captured, 'x-rebound-timestamp': stamp(now) }, body, now)).toBe(false);
    // The old form (a signature of the body alone) no longer passes.
    const bodyOnly = `sha256=${createHmac('sha256', KEY).update(body).digest('hex')}`;
    expect(authenticate(keys, { 'x-rebound-signature': bodyOnly }, body, now)).toBe(false);
    expect(authenticate(keys, { ...signed(KEY, body), 'x-rebound-timestamp': 'soon' }, body, now)).toBe(false);
  });
});

describe('log', () => {
  it('caps field lengths and escapes control characters (ANSI escapes, C1, bidi) that a terminal would act on', () => {
    const lines: string[] = [];
    const log = jsonLog((line) => lines.push(line));
    log('warn', 'alert', { error: `\u001b[31mred\u009b2J\u202eevil\u007f${'x'.repeat(20_000)}`, alerts: ['\u009bA', 'y'.repeat(5000)] });
    const line = lines[0]!.replace(/\n$/, '');
    expect(line.length).toBeLessThan(4000);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const entry = JSON.parse(line) as { error: string; alerts: string[] };
    expect(entry.error).toMatch(/^\\x1b\[31mred\\x9b2J\\u202eevil\\x7fx+… \(\d+ more characters\)$/);
    expect(entry.alerts[0]).toBe('\\x9bA');
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
    expect(alertWorkflowId('rb', 'a b/c')).toBe('rb:alert:a%20b%2Fc');
    expect(alertWorkflowId('rb', 'x'.repeat(300))).toMatch(/^rb:alert:~sha256-[0-9a-f]{64}$/);
    expect(alertWorkflowId('rb', 'a b/c')).toBe(alertWorkflowId('rb', 'a b/c'));
  });

  it('no key gives a child run id (`<parent>.<step>`) or another key’s id, hashed or not', () => {
    const child = `${alertWorkflowId('rb', 'orders')}.failover`;
    expect(alertWorkflowId('rb', 'orders.failover')).not.toBe(child);
    const keys = ['orders', 'orders.failover', 'a b', '%20', ' ', '~', 'é', 'x'.repeat(300), 'y'.repeat(300), ''];
    const hashed = alertWorkflowId('rb', 'x'.repeat(300)).slice('rb:alert:'.length);
    keys.push(hashed, hashed.slice(1), `sha256-${'0'.repeat(64)}`, alertWorkflowId('rb', 'a b').slice('rb:alert:'.length));
    const ids = keys.map((k) => alertWorkflowId('rb', k));
    expect(new Set(ids).size).toBe(keys.length);
    // Runbook and step names hold no "." (the compiler's name rule), and no alert id does: none is a child's.
    for (const id of ids) expect(id).not.toContain('.');
    expect(alertWorkflowId('rb', 'a:alert:b')).not.toBe(alertWorkflowId('rb:alert:a', 'b'));
  });
});

describe('limits', () => {
  const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
    status: 'firing' as const,
    labels,
    annotations,
    starts_at: '',
    fingerprint: 'f',
    source: 'generic' as const,
  });

  it('refuses (413) a label or annotation value over 8 KB, too many labels, too many alerts, saying which', () => {
    expect(() => checkLimits([alert({ a: 'x'.repeat(8192) })], DEFAULT_LIMITS)).not.toThrow();
    expect(() => checkLimits([alert({ db: 'x'.repeat(8193) })], DEFAULT_LIMITS)).toThrow(/alerts\[0\]\.labels\.db is 8193 bytes; the limit is 8192/);
    expect(() => checkLimits([alert({}, { summary: 'é'.repeat(5000) })], DEFAULT_LIMITS)).toThrow(/annotations\.summary is 10000 bytes/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v']));
    expect(() => checkLimits([alert(many)], DEFAULT_LIMITS)).toThrow(/alerts\[0\] has 65 labels; the limit is 64/);
    expect(() =>
      checkLimits(
        Array.from({ length: 101 }, () => alert({})),
        DEFAULT_LIMITS,
      ),
    ).toThrow(LimitError);
    try {
      checkLimits(
        Array.from({ length: 101 }, () => alert({})),
        DEFAULT_LIMITS,
      );
    } catch (error) {
      expect(error).toMatchObject({ status: 413, reason: 'too_many_alerts' });
    }
  });
});

describe('responses', () => {
  it('503 when any start failed for a retryable reason, even beside a started run: the retry attaches to it', () => {
    expect(
      statusOf([
        { decision: 'started', fingerprint: 'f' },
        { decision: 'error', fingerprint: 'g' },
      ]),
    ).toBe(503);
    expect(
      statusOf([
        { decision: 'invalid', fingerprint: 'f' },
        { decision: 'error', fingerprint: 'g' },
      ]),
    ).toBe(503);
  });

  it('400 when any alert can never start (a permanent refusal), even beside a started run', () => {
    expect(
      statusOf([
        { decision: 'started', fingerprint: 'f' },
        { decision: 'invalid', fingerprint: 'g', error: 'parameter "n" must be a number' },
      ]),
    ).toBe(400);
  });

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
