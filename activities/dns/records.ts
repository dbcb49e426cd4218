// What dns.switch and its providers share: the provider interface, and how record values are compared and printed.
import { setTimeout as sleep } from 'node:timers/promises';
import { fqdn, type RecordSet } from '../../contract/actions/dns.ts';

export type { RecordSet };
export type RecordType = 'A' | 'AAAA' | 'CNAME';

/** One record set, named absolutely (lower case, trailing dot). */
export interface Target {
  zone: string;
  name: string;
  type: RecordType;
  /** Route 53: the routing-policy record of this name and type to read and write. */
  set_identifier?: string;
}

/** How long a provider may wait for a change to take effect, and how it reports progress. */
export interface Wait {
  deadline: number;
  /** The step's verify_timeout as written, for messages. */
  timeout: string;
  signal: AbortSignal;
  heartbeat(progress: Record<string, unknown>): void;
}

export interface DnsProvider {
  /**
   * Every record set at the name, by type (the target's type: the set the target names), and
   * a description of the zone that holds them. Throws zone_not_found. `identifiers`: the
   * routing-policy records of the target's type, by SetIdentifier (Route 53).
   */
  read(target: Target): Promise<{ zone: string; sets: Map<string, RecordSet>; identifiers?: string[] }>;
  /** Replaces the record set (UPSERT); resolves once the change is live, or throws a retryable not_converged. */
  write(target: Target, set: RecordSet, wait: Wait): Promise<void>;
  /**
   * Waits until a change already made is live, writing nothing: how a retry finishes an
   * attempt that crashed between its write and its verification. Absent: write again (UPSERT).
   */
  verify?(target: Target, set: RecordSet, wait: Wait): Promise<void>;
  /** Read-only checks a drill adds to reading (can the change be verified?): one line per thing proved. */
  preflight(target: Target, current: RecordSet | null): Promise<string[]>;
}

/** One spelling per value: IPv6 compressed (RFC 5952), names absolute — providers echo values back in their own form. */
export function normalizeValue(type: RecordType, value: string): string {
  const trimmed = value.trim();
  if (type === 'CNAME') return fqdn(trimmed);
  if (type === 'AAAA') {
    try {
      return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
    } catch {
      return trimmed.toLowerCase();
    }
  }
  return trimmed;
}

export function normalizeValues(type: RecordType, values: string[]): string[] {
  return [...new Set(values.map((v) => normalizeValue(type, v)))].sort();
}

/** A record set is a set: order and duplicates do not matter. */
export function sameValues(type: RecordType, a: string[], b: string[]): boolean {
  const x = normalizeValues(type, a);
  const y = normalizeValues(type, b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** What a Route 53 routing-policy record carries besides values and TTL. */
export const POLICY_KEYS = ['set_identifier', 'weight', 'failover', 'region', 'health_check_id'] as const;

export function sameSet(type: RecordType, a: RecordSet | null, b: RecordSet): boolean {
  return a !== null && a.ttl === b.ttl && sameValues(type, a.values, b.values) && POLICY_KEYS.every((k) => a[k] === b[k]);
}

/** `[10.0.0.1] (ttl 60)`; a policy record adds what it routes by: `(ttl 60, weight 25, health check hc-1)`. */
export function describeSet(set: RecordSet | null): string {
  if (!set) return 'nothing (no such record)';
  const policy = [
    set.weight !== undefined ? `weight ${set.weight}` : '',
    set.failover ? `failover ${set.failover}` : '',
    set.region ? `region ${set.region}` : '',
    set.health_check_id ? `health check ${set.health_check_id}` : '',
  ].filter(Boolean);
  const details = [...(set.ttl >= 0 ? [`ttl ${set.ttl}`] : []), ...policy];
  return `[${set.values.join(', ')}]${details.length ? ` (${details.join(', ')})` : ''}`;
}

/** Why a network call failed, without the request (which may carry a key): the errno code or the error's own message. */
export function networkReason(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}

/** Polls `attempt` until it returns true or the deadline passes; returns whether it did. */
export async function pollUntil(wait: Wait, attempt: () => Promise<boolean>, intervalMs = 500): Promise<boolean> {
  for (;;) {
    if (await attempt()) return true;
    if (Date.now() >= wait.deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(0, wait.deadline - Date.now())), undefined, { signal: wait.signal });
  }
}
