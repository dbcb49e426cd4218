// A two-site service on loopback for the failover demo, tests and P4: PowerDNS serving its name, HAProxy in front, a primary and a standby stand-in.
import { createServer, type Server } from 'node:http';
import { promises as dns } from 'node:dns';
import { parseLocation, readServers } from '../activities/routing/haproxy.ts';
import { startHaproxy, type HaproxyServer } from './haproxy.ts';
import type { StackOwner } from './owner.ts';
import { freePort } from './ports.ts';
import { startPowerDns, type PowerDnsServer } from './powerdns.ts';

export const ZONE = 'example.org.';
export const RECORD = 'orders.example.org.';
export const PRIMARY_IP = '127.0.0.1';
export const STANDBY_IP = '127.0.0.2';
const BACKEND = 'orders';

/** What the failover touches, as read straight from PowerDNS and HAProxy: equal snapshots mean equal state. */
export interface SiteState {
  dns: { values: string[]; ttl: number } | null;
  haproxy: Record<string, { state: string; weight: number }>;
}

export interface FailoverSite {
  pdns: PowerDnsServer;
  haproxy: HaproxyServer;
  /** The stand-ins' shared port: each site answers on its own address, so the name decides which one a client reaches. */
  port: number;
  /** Parameters of runbooks/dr-failover.yaml for this site (the API key goes in PDNS_API_KEY). */
  params: Record<string, string>;
  setPrimaryHealthy(healthy: boolean): void;
  /** The A record as PowerDNS answers it over DNS. */
  resolve(): Promise<string[]>;
  /** Which site answers through HAProxy (`role` of the health document), or the HTTP status when none is healthy. */
  throughProxy(): Promise<string>;
  /** Which site answers at the address the name resolves to, as a client following DNS would reach it. */
  byName(): Promise<string>;
  state(): Promise<SiteState>;
  /** Sets the record directly through the API, as someone else might. */
  setRecord(values: string[], ttl?: number): Promise<void>;
  stop(): Promise<void>;
}

function standIn(role: 'primary' | 'standby', healthy: () => boolean): Server {
  return createServer((_req, res) => {
    const ok = healthy();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ status: ok ? 'ok' : 'down', role }));
  });
}

/** One port free on both loopback addresses (another process may take it between tries: retried). */
async function listenPair(primary: Server, standby: Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      await new Promise<void>((resolve, reject) => primary.once('error', reject).listen(port, PRIMARY_IP, resolve));
      await new Promise<void>((resolve, reject) => standby.once('error', reject).listen(port, STANDBY_IP, resolve));
      return port;
    } catch (error) {
      primary.close();
      standby.close();
      if (attempt >= 5) throw error;
    }
  }
}

async function readState(pdns: PowerDnsServer, haproxy: HaproxyServer): Promise<SiteState> {
  const zone = (await pdns.api('GET', `/zones/${ZONE}`)) as {
    rrsets: Array<{ name: string; type: string; ttl: number; records: Array<{ content: string }> }>;
  };
  const rrset = zone.rrsets.find((r) => r.name === RECORD && r.type === 'A');
  const servers = await readServers(parseLocation(haproxy.statsSocket.tcp), BACKEND);
  return {
    dns: rrset ? { values: rrset.records.map((r) => r.content).sort(), ttl: rrset.ttl } : null,
    haproxy: Object.fromEntries([...servers].map(([name, s]) => [name, { state: s.state, weight: s.weight }])),
  };
}

async function role(url: string): Promise<string> {
  const response = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5_000) });
  const body = (await response.json().catch(() => ({}))) as { role?: string };
  return response.ok ? (body.role ?? 'unknown') : `HTTP ${response.status}`;
}

/** Starts everything, registering each part with `owner` (when given) so Ctrl-C stops it. */
export async function startFailoverSite(options: { owner?: StackOwner; log?: (line: string) => void } = {}): Promise<FailoverSite> {
  const stops: Array<() => Promise<void>> = [];
  const own = (name: string, stop: () => Promise<void>, pid?: () => number | undefined) => {
    stops.push(stop);
    options.owner?.own(name, stop, pid);
  };
  let primaryHealthy = true;
  const primary = standIn('primary', () => primaryHealthy);
  const standby = standIn('standby', () => true);
  const port = await listenPair(primary, standby);
  own('stand-ins', async () => void (await Promise.all([primary, standby].map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))))));
  try {
    const pdns = await startPowerDns({ log: options.log });
    own(
      'PowerDNS',
      () => pdns.stop(),
      () => pdns.pid,
    );
    await pdns.api('POST', '/zones', { name: ZONE, kind: 'Native', nameservers: [`ns1.${ZONE}`] });
    const setRecord = (values: string[], ttl = 300) =>
      pdns
        .api('PATCH', `/zones/${ZONE}`, {
          rrsets: [{ name: RECORD, type: 'A', ttl, changetype: 'REPLACE', records: values.map((content) => ({ content, disabled: false })) }],
        })
        .then(() => undefined);
    await setRecord([PRIMARY_IP]);
    const servers = { primary: `${PRIMARY_IP}:${port}`, standby: `${STANDBY_IP}:${port}` };
    const haproxy = await startHaproxy({ backends: { [BACKEND]: { servers, disabled: ['standby'] } }, log: options.log });
    own(
      'HAProxy',
      () => haproxy.stop(),
      () => haproxy.pid,
    );
    const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([`127.0.0.1:${pdns.dnsPort}`]);
    const resolve = () => resolver.resolve4(RECORD.slice(0, -1));
    return {
      pdns,
      haproxy,
      port,
      params: {
        primary_url: `http://${PRIMARY_IP}:${port}/health`,
        standby_url: `http://${STANDBY_IP}:${port}/health`,
        public_url: `${haproxy.frontends[BACKEND]}/health`,
        haproxy_socket: haproxy.statsSocket.tcp,
        haproxy_backend: BACKEND,
        pdns_api_url: pdns.apiUrl,
        pdns_resolver: `127.0.0.1:${pdns.dnsPort}`,
        zone: ZONE,
        record: RECORD,
        standby_ip: STANDBY_IP,
      },
      setPrimaryHealthy: (healthy) => void (primaryHealthy = healthy),
      resolve,
      throughProxy: () => role(`${haproxy.frontends[BACKEND]}/health`),
      byName: async () => role(`http://${(await resolve())[0]}:${port}/health`),
      state: () => readState(pdns, haproxy),
      setRecord,
      stop: async () => {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
