// Alert routes' authentication: a bearer token and/or an HMAC-SHA256 signature of a timestamp and the body, compared in constant time.
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

/** Keys from REBOUND_SERVE_TOKEN / REBOUND_SERVE_HMAC_KEY, or the files their `_FILE` variants name; each at least 32 bytes. */
export function loadAuthKeys(env: NodeJS.ProcessEnv = process.env): AuthKeys {
  const keys = {
    token: longEnough('REBOUND_SERVE_TOKEN', fromEnv(env, 'REBOUND_SERVE_TOKEN')),
    hmacKey: longEnough('REBOUND_SERVE_HMAC_KEY', fromEnv(env, 'REBOUND_SERVE_HMAC_KEY')),
  };
  if (!keys.token && !keys.hmacKey) {
    throw new AuthConfigError(
      'no credentials for the alert routes: set REBOUND_SERVE_TOKEN (or REBOUND_SERVE_TOKEN_FILE) for a bearer token and/or REBOUND_SERVE_HMAC_KEY (or REBOUND_SERVE_HMAC_KEY_FILE) for signed bodies',
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

/** Every configured check must pass: the token when one is set, the signature when a key is set. */
export function authenticate(keys: AuthKeys, headers: Headers, body: Buffer, now = Date.now()): boolean {
  let ok = true;
  if (keys.token) ok = hasToken(keys.token, headers) && ok;
  if (keys.hmacKey) ok = hasSignature(keys.hmacKey, headers, body, now) && ok;
  return ok;
}
