// Alert routes' authentication: a bearer token and/or an HMAC-SHA256 signature of the body, compared in constant time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The header carrying the body's signature: `sha256=<hex of HMAC-SHA256(key, body)>`. */
export const SIGNATURE_HEADER = 'x-rebound-signature';

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

/** Keys from REBOUND_SERVE_TOKEN / REBOUND_SERVE_HMAC_KEY, or the files their `_FILE` variants name. */
export function loadAuthKeys(env: NodeJS.ProcessEnv = process.env): AuthKeys {
  const keys = { token: fromEnv(env, 'REBOUND_SERVE_TOKEN'), hmacKey: fromEnv(env, 'REBOUND_SERVE_HMAC_KEY') };
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

/** Every configured check must pass: the token when one is set, the signature when a key is set. */
export function authenticate(keys: AuthKeys, headers: Record<string, string | string[] | undefined>, body: Buffer): boolean {
  let ok = true;
  if (keys.token) {
    const match = /^Bearer\s+(.+)$/i.exec(header(headers, 'authorization'));
    ok = sameSecret(match?.[1]?.trim() ?? '', keys.token) && ok;
  }
  if (keys.hmacKey) {
    const expected = `sha256=${createHmac('sha256', keys.hmacKey).update(body).digest('hex')}`;
    ok = sameSecret(header(headers, SIGNATURE_HEADER).trim().toLowerCase(), expected) && ok;
  }
  return ok;
}
