// Signed manifests and verdicts: an HMAC-SHA256 under the store's manifest key over a record's canonical JSON, so a store writer without the key cannot forge a point.
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How far a point's manifest is vouched for: `valid` (signed with the store's key),
 * `unsigned` (no HMAC: written before keys, or without one), `unchecked` (an HMAC, but this
 * reader has no key to check it). With a key configured only `valid` points are accepted.
 */
export type Signature = 'valid' | 'unsigned' | 'unchecked';

/**
 * JSON with keys sorted at every level and no spacing: the same text for the same record
 * whatever order its keys were written in (the catalog's jsonb copy reorders them).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The HMAC a record carries in its `hmac` field: over every other field, under `key`. */
export function hmacOf(record: object, key: string): string {
  const { hmac: _ignored, ...rest } = record as { hmac?: unknown };
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('hex');
}

/** The record with its HMAC, or as it is when the store has no key. */
export function signed<T extends object>(record: T, key: string | undefined): T & { hmac?: string } {
  if (!key) return record;
  const { hmac: _old, ...rest } = record as T & { hmac?: string };
  return { ...(rest as T), hmac: hmacOf(rest, key) };
}

/** The record's standing, or why it is not accepted under the store's key ('unsigned', 'bad signature'). */
export function judge(record: { hmac?: string }, key: string | undefined): Signature | { refused: string } {
  if (!record.hmac) return key ? { refused: 'unsigned' } : 'unsigned';
  if (!key) return 'unchecked';
  const want = Buffer.from(hmacOf(record, key), 'hex');
  const got = Buffer.from(record.hmac, 'hex');
  return got.length === want.length && timingSafeEqual(got, want) ? 'valid' : { refused: 'bad signature' };
}
