// PowerDNS authoritative through its HTTP API (read rrsets, PATCH REPLACE), verified by querying the server over DNS.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { ActionError } from '../runtime/errors.ts';
import { describeSet, networkReason, normalizeValues, pollUntil, sameSet, type DnsProvider, type RecordSet, type Target, type Wait } from './records.ts';

export interface PowerDnsConfig {
  api_url: string;
  api_key: string;
  server_id: string;
  resolver?: string;
}

interface ApiRRset {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled: boolean }[];
}

/**
 * Calls the API. Every failure names the server and the HTTP status, never the key. A fresh
 * connection per call: PowerDNS closes idle keep-alive connections, and a PATCH written onto one
 * it has just closed would fail as if the server were down.
 */
async function call(config: PowerDnsConfig, signal: AbortSignal, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const base = config.api_url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-API-Key': config.api_key, accept: 'application/json', connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
  } catch (error) {
    throw new ActionError('unreachable', `PowerDNS API at ${base} did not answer (${networkReason(error)})`, { retryable: true });
  }
  const text = await response.text().catch(() => '');
  if (response.status === 401 || response.status === 403) {
    throw new ActionError('auth_failed', `PowerDNS API at ${base} refused the API key (HTTP ${response.status}); check the secret given as powerdns.api_key`, {
      retryable: false,
    });
  }
  if (response.status >= 500 || response.status === 429) {
    throw new ActionError('unreachable', `PowerDNS API at ${base} answered ${method} with HTTP ${response.status}: ${apiError(text)}`, { retryable: true });
  }
  return { status: response.status, text };
}

/** The API's own explanation ({"error": "..."}), else the start of the body. */
function apiError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string };
    if (parsed.error) return parsed.error;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 200) || '(empty body)';
}

function zonePath(config: PowerDnsConfig, zone: string): string {
  return `/api/v1/servers/${encodeURIComponent(config.server_id)}/zones/${encodeURIComponent(zone)}`;
}

/** Disabled records are not served, so they are not part of what the record holds. */
function setsAt(rrsets: ApiRRset[], name: string): Map<string, RecordSet> {
  const sets = new Map<string, RecordSet>();
  for (const rrset of rrsets) {
    if (rrset.name.toLowerCase() !== name) continue;
    const values = rrset.records.filter((r) => !r.disabled).map((r) => r.content);
    if (values.length > 0) sets.set(rrset.type, { values, ttl: rrset.ttl });
  }
  return sets;
}

/** Where to ask: the configured resolver, else port 53 on the API's host (an IP, as c-ares wants). */
async function resolverAddress(config: PowerDnsConfig): Promise<string> {
  if (config.resolver) {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(config.resolver)!;
    return serverString(await ipOf(match[1]!), Number(match[2]));
  }
  return serverString(await ipOf(new URL(config.api_url).hostname.replace(/^\[|\]$/g, '')), 53);
}

async function ipOf(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await dns.lookup(host)).address;
  } catch (error) {
    throw new ActionError('unreachable', `cannot find the address of the DNS server ${host} (${networkReason(error)})`, { retryable: true });
  }
}

const serverString = (ip: string, port: number): string => (isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The authoritative answer for the record, null when there is none; throws on no answer at all. */
async function query(server: string, target: Target): Promise<RecordSet | null> {
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([server]);
  const host = target.name.replace(/\.$/, '');
  try {
    if (target.type === 'CNAME') return { values: await resolver.resolveCname(host), ttl: -1 };
    const answers = target.type === 'A' ? await resolver.resolve4(host, { ttl: true }) : await resolver.resolve6(host, { ttl: true });
    return { values: answers.map((a) => a.address), ttl: answers[0]?.ttl ?? 0 };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return null;
    throw error;
  }
}

/** Compares an answer with a record set; a CNAME answer carries no TTL (c-ares does not return one). */
function answers(type: Target['type'], answer: RecordSet | null, set: RecordSet): boolean {
  if (!answer) return false;
  return sameSet(type, { values: normalizeValues(type, answer.values), ttl: answer.ttl < 0 ? set.ttl : answer.ttl }, set);
}

async function verify(config: PowerDnsConfig, target: Target, set: RecordSet, wait: Wait): Promise<void> {
  const server = await resolverAddress(config);
  let last = 'no answer yet';
  const ok = await pollUntil(wait, async () => {
    try {
      const answer = await query(server, target);
      if (answers(target.type, answer, set)) return true;
      last = `answers ${describeSet(answer)}`;
    } catch (error) {
      last = `does not answer (${networkReason(error)})`;
    }
    wait.heartbeat({ phase: 'verify', server, answer: last });
    return false;
  });
  if (!ok) {
    throw new ActionError(
      'timeout',
      `the authoritative server ${server} ${last} for ${target.name} ${target.type} ${wait.timeout} after the change, expected ${describeSet(set)}`,
      { retryable: true },
    );
  }
}

export function powerDnsProvider(config: PowerDnsConfig, signal: AbortSignal): DnsProvider {
  const where = `server ${config.server_id} at ${config.api_url.replace(/\/+$/, '')}`;
  return {
    async read(target) {
      const { status, text } = await call(config, signal, 'GET', zonePath(config, target.zone));
      if (status === 404 || status === 422) {
        throw new ActionError('not_found', `zone ${target.zone} does not exist on PowerDNS ${where} (HTTP ${status}: ${apiError(text)})`, {
          retryable: false,
        });
      }
      if (status !== 200)
        throw new ActionError('rejected', `PowerDNS ${where} answered HTTP ${status} reading zone ${target.zone}: ${apiError(text)}`, { retryable: false });
      const zone = JSON.parse(text) as { rrsets?: ApiRRset[] };
      return { zone: `zone ${target.zone} on PowerDNS ${where}`, sets: setsAt(zone.rrsets ?? [], target.name) };
    },
    async write(target, set, wait) {
      const rrset = {
        name: target.name,
        type: target.type,
        ttl: set.ttl,
        changetype: 'REPLACE',
        records: set.values.map((content) => ({ content, disabled: false })),
      };
      const { status, text } = await call(config, signal, 'PATCH', zonePath(config, target.zone), { rrsets: [rrset] });
      if (status !== 204 && status !== 200) {
        throw new ActionError('rejected', `PowerDNS ${where} refused to set ${target.name} ${target.type} (HTTP ${status}): ${apiError(text)}`, {
          retryable: false,
        });
      }
      await verify(config, target, set, wait);
    },
    verify: (target, set, wait) => verify(config, target, set, wait),
    async preflight(target, current) {
      const server = await resolverAddress(config);
      let answer: RecordSet | null;
      try {
        answer = await query(server, target);
      } catch (error) {
        throw new ActionError(
          'unreachable',
          `the authoritative server ${server} does not answer (${networkReason(error)}), so a switch could not be verified`,
          { retryable: true },
        );
      }
      const agrees = current ? answers(target.type, answer, current) : answer === null;
      return [`the authoritative server ${server} answers ${describeSet(answer)}${agrees ? '' : ' (differs from the API: a cache or another server?)'}`];
    },
  };
}
