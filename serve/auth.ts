// Alert routes' authentication: a bearer token and/or an HMAC-SHA256 signature of a timestamp and the body; PagerDuty's and Grafana's signatures on their routes; all compared in constant time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The header carrying the signature: `sha256=<hex of HMAC-SHA256(key, <timestamp> + "." + body)>`. */
const SIGNATURE_HEADER = 'x-rebound-signature';
/** When the sender signed, in Unix seconds; part of what is signed, so it cannot be moved. */
const TIMESTAMP_HEADER = 'x-rebound-timestamp';
/** A signed request older (or newer) than this is refused: a captured one cannot be replayed later. */
const SIGNATURE_WINDOW_MS = 5 * 60_000;
/** Shorter tokens and keys can be guessed or brute-forced offline from one signed request. */
const MIN_SECRET_BYTES = 32;

export interface AuthKeys {
  token?: string;
  hmacKey?: string;
  /** The PagerDuty webhook subscription's signing secret: the only key of the PagerDuty route. */
  pagerdutySecret?: string;
  /** The secret of the Grafana contact point's HMAC signature. */
  grafanaKey?: string;
}

/** A missing or unreadable key: `rebound serve` refuses to start rather than accept anyone. */
export class AuthConfigError extends Error {
  readonly code = 'auth_config';
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch (error) {
      throw new AuthConfigError(`${name}_FILE names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return env[name] || undefined;
}

/** Says the length only: the value must not reach the log. */
function longEnough(name: string, value: string | undefined): string | undefined {
  const bytes = value === undefined ? 0 : Buffer.byteLength(value, 'utf8');
  if (value !== undefined && bytes < MIN_SECRET_BYTES) {
    throw new AuthConfigError(
      `${name} is ${bytes} byte${bytes === 1 ? '' : 's'} long; it must be at least ${MIN_SECRET_BYTES} (make one with: openssl rand -hex 32)`,
    );
  }
  return value;
}

const KEY_VARIABLES = {
  token: 'REBOUND_SERVE_TOKEN',
  hmacKey: 'REBOUND_SERVE_HMAC_KEY',
  pagerdutySecret: 'REBOUND_SERVE_PAGERDUTY_SECRET',
  grafanaKey: 'REBOUND_SERVE_GRAFANA_HMAC_KEY',
} as const satisfies Record<keyof AuthKeys, string>;

/** Keys from REBOUND_SERVE_TOKEN / _HMAC_KEY / _PAGERDUTY_SECRET / _GRAFANA_HMAC_KEY, or the files their `_FILE` variants name; each at least 32 bytes. */
export function loadAuthKeys(env: NodeJS.ProcessEnv = process.env): AuthKeys {
  const keys: AuthKeys = {};
  for (const [field, name] of Object.entries(KEY_VARIABLES) as [keyof AuthKeys, string][]) keys[field] = longEnough(name, fromEnv(env, name));
  if (!Object.values(keys).some(Boolean)) {
    throw new AuthConfigError(
      "no credentials for the alert routes: set REBOUND_SERVE_TOKEN (or REBOUND_SERVE_TOKEN_FILE) for a bearer token and/or REBOUND_SERVE_HMAC_KEY (or _FILE) for signed bodies; REBOUND_SERVE_PAGERDUTY_SECRET and REBOUND_SERVE_GRAFANA_HMAC_KEY (or _FILE) for those senders' signatures",
    );
  }
  return keys;
}

/** Hashing both sides first gives equal lengths, so the comparison leaks neither content nor length. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

type Headers = Record<string, string | string[] | undefined>;

/** The bearer token, when one is configured (also what `/metrics` asks for with --metrics-auth). */
export function hasToken(token: string, headers: Headers): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header(headers, 'authorization'));
  return sameSecret(match?.[1]?.trim() ?? '', token);
}

/** A signature over `<timestamp>.<body>` (Slack's and Stripe's scheme), with the timestamp inside the window. */
function hasSignature(key: string, headers: Headers, body: Buffer, now: number): boolean {
  const timestamp = header(headers, TIMESTAMP_HEADER).trim();
  const expected = `sha256=${createHmac('sha256', key).update(`${timestamp}.`).update(body).digest('hex')}`;
  const signed = sameSecret(header(headers, SIGNATURE_HEADER).trim().toLowerCase(), expected);
  const fresh = /^\d{1,12}$/.test(timestamp) && Math.abs(now - Number(timestamp) * 1000) <= SIGNATURE_WINDOW_MS;
  return signed && fresh;
}

/** Every configured check must pass: the token when one is set, the signature when a key is set; neither set (only a sender's key is), nothing passes. */
export function authenticate(keys: AuthKeys, headers: Headers, body: Buffer, now = Date.now()): boolean {
  if (!keys.token && !keys.hmacKey) return false;
  let ok = true;
  if (keys.token) ok = hasToken(keys.token, headers) && ok;
  if (keys.hmacKey) ok = hasSignature(keys.hmacKey, headers, body, now) && ok;
  return ok;
}

/** PagerDuty sends one `v1=<hex>` per signing secret while a secret is rotated; two is what it sends, a few more are looked at. */
const PAGERDUTY_SIGNATURES = 8;

/** `X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, body)>[,v1=…]`: any one matching passes. It covers no time: replays are routes.ts's (replay.ts). */
function hasPagerDutySignature(secret: string, headers: Headers, body: Buffer): boolean {
  const expected = `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const given = header(headers, 'x-pagerduty-signature').split(',', PAGERDUTY_SIGNATURES);
  // Every one is compared, so the time taken says nothing about which matched.
  return given.map((s) => sameSecret(s.trim().toLowerCase(), expected)).some(Boolean);
}

/** The PagerDuty route: its subscription's secret, and nothing else (PagerDuty cannot send ours); without it, nothing passes. */
export function authenticatePagerDuty(keys: AuthKeys, headers: Headers, body: Buffer): boolean {
  return !!keys.pagerdutySecret && hasPagerDutySignature(keys.pagerdutySecret, headers, body);
}

/**
 * Grafana's signature header is the contact point's choice; its form shows `X-Grafana-Alerting-Signature`,
 * while an empty field sends `X-Grafana-Alert-Signature`. The timestamp header has no default: ours is named here.
 */
const GRAFANA_SIGNATURE_HEADERS = ['x-grafana-alerting-signature', 'x-grafana-alert-signature'];
const GRAFANA_TIMESTAMP_HEADER = 'x-grafana-alerting-timestamp';

/** `<hex HMAC-SHA256(key, <timestamp> + ":" + body)>`, the timestamp (Unix seconds) inside the window; without one, refused: it could be replayed forever. */
function hasGrafanaSignature(key: string, headers: Headers, body: Buffer, now: number): boolean {
  const timestamp = header(headers, GRAFANA_TIMESTAMP_HEADER).trim();
  const given = GRAFANA_SIGNATURE_HEADERS.map((name) => header(headers, name).trim()).find(Boolean) ?? '';
  const expected = createHmac('sha256', key).update(`${timestamp}:`).update(body).digest('hex');
  const signed = sameSecret(given.toLowerCase(), expected);
  const fresh = /^\d{1,12}$/.test(timestamp) && Math.abs(now - Number(timestamp) * 1000) <= SIGNATURE_WINDOW_MS;
  return signed && fresh;
}

/**
 * The Grafana route: the token when one is set, Grafana's signature when its key is set. With
 * REBOUND_SERVE_HMAC_KEY set, signed bodies are asked for, and Grafana signs only with its own
 * key: without that one, nothing passes (as no Alertmanager request passes then).
 */
export function authenticateGrafana(keys: AuthKeys, headers: Headers, body: Buffer, now = Date.now()): boolean {
  if (!keys.token && !keys.grafanaKey) return false;
  if (keys.hmacKey && !keys.grafanaKey) return false;
  let ok = true;
  if (keys.token) ok = hasToken(keys.token, headers) && ok;
  if (keys.grafanaKey) ok = hasGrafanaSignature(keys.grafanaKey, headers, body, now) && ok;
  return ok;
}
