// Where a secret goes: which `with:` field is the destination of each secret-bearing field, and whether a host is on a secret's list. Shared by the compiler (fixed destinations, hosts recorded in the plan) and the worker (refuses any other host before connecting).
import type { ActionSpec } from './action.ts';

/** Destinations every action with a `storage:` block shares. */
const SHARED: Record<string, string> = { storage: 'storage.endpoint' };

/**
 * The dotted `with:` field a secret at `path` is sent to, or undefined when the secret carries
 * its own destination. A `*` segment in the table matches any one key or index and stands for
 * the same one in the destination: `channels.*.email.password` → `channels.*.email.host`.
 */
export function destinationOf(spec: ActionSpec, path: ReadonlyArray<string | number>): string | undefined {
  const dotted = path.map(String);
  const table = { ...SHARED, ...spec.secret_destinations };
  // The longest prefix names it: `headers` covers `headers.Authorization`.
  for (let n = dotted.length; n > 0; n--) {
    const prefix = dotted.slice(0, n);
    for (const [field, destination] of Object.entries(table)) {
      const pattern = field.split('.');
      if (pattern.length !== n || !pattern.every((p, i) => p === '*' || p === prefix[i])) continue;
      const stars = prefix.filter((_, i) => pattern[i] === '*');
      return destination.replace(/\*/g, () => stars.shift() ?? '*');
    }
  }
  return undefined;
}

/** The host of a destination value (a URL, or a bare host[:port]); undefined when it names none. */
export function hostOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)/i.exec(value) ?? /^(\[[^\]]+\]|[^:/?#\s]+)(?::\d+)?$/.exec(value);
  return match?.[1]?.toLowerCase();
}

/** Whether `host` is on the list: exact names, or `*.example.org` for any name below it. */
export function hostAllowed(host: string, hosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
  });
}

/** Reads a dotted field of a `with:` value. */
export function fieldOf(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}
