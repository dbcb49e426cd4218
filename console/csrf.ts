// CSRF protection for every POST: a token derived from the session (HMAC with a key made at start, so nothing is stored), sent in a hidden field, plus the request's Origin (or Referer) naming the console itself.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export class Csrf {
  private readonly key = randomBytes(32);

  /** The form token of one principal (a session id, or `mtls:<name>` for a certificate holder). */
  token(principal: string): string {
    return createHmac('sha256', this.key).update(`csrf\0${principal}`).digest('base64url');
  }

  matches(principal: string, given: unknown): boolean {
    if (typeof given !== 'string' || given.length > 100) return false;
    const expected = Buffer.from(this.token(principal));
    const got = Buffer.from(given);
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the request comes from one of the console's own pages: its Origin, or failing that its
 * Referer's origin, is one of `origins`. Neither header: refused (every browser that runs our
 * forms sends Origin on a POST; a request without either is not from our page).
 */
export function sameOrigin(headers: IncomingHttpHeaders, origins: ReadonlySet<string>): boolean {
  const origin = first(headers.origin);
  if (origin && origin !== 'null') return origins.has(origin);
  const referer = first(headers.referer);
  if (!referer) return false;
  try {
    return origins.has(new URL(referer).origin);
  } catch {
    return false;
  }
}
