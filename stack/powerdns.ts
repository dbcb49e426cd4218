// PowerDNS authoritative (Debian's pdns-server + sqlite3 backend) on loopback, with its HTTP API, for the DNS actions' tests.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePorts } from './ports.ts';
import { ServerProcess } from './process.ts';

const PACKAGES = ['pdns-server', 'pdns-backend-sqlite3', 'sqlite3'];
const SERVER = '/usr/sbin/pdns_server';
const SCHEMA_DIRS = ['/usr/share/doc/pdns-backend-sqlite3', '/usr/share/pdns-backend-sqlite3'];
const POLICY = '/usr/sbin/policy-rc.d';

function findSchema(): string | undefined {
  const walk = (dir: string): string | undefined => {
    if (!existsSync(dir)) return undefined;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const inner = walk(path);
        if (inner) return inner;
      } else if (/^schema\.sqlite3\.sql(\.gz)?$/.test(entry.name)) return path;
    }
    return undefined;
  };
  for (const dir of SCHEMA_DIRS) {
    const found = walk(dir);
    if (found) return found;
  }
  return undefined;
}

const installed = (): boolean => existsSync(SERVER) && findSchema() !== undefined && spawnSync('sqlite3', ['-version'], { stdio: 'ignore' }).status === 0;

/**
 * Stops a pdns service the package may have started: Debian's postinst starts one unless
 * policy-rc.d says no, and it would hold port 53 on every address.
 */
function disableSystemService(): void {
  if (existsSync('/run/systemd/system')) {
    spawnSync('systemctl', ['disable', '--now', 'pdns.service'], { stdio: 'ignore' });
  } else if (existsSync('/etc/init.d/pdns')) {
    spawnSync('/etc/init.d/pdns', ['stop'], { stdio: 'ignore' });
  }
}

/** Installs the packages with apt-get when missing (as root), with service starts refused. */
export function ensurePowerDns(log: (line: string) => void = () => {}): string {
  if (installed()) return SERVER;
  if (process.getuid?.() !== 0) throw new Error(`PowerDNS is not installed; as root, run: apt-get install ${PACKAGES.join(' ')}`);
  log(`installing ${PACKAGES.join(', ')} from Debian's packages`);
  // policy-rc.d exiting 101 tells invoke-rc.d / deb-systemd-invoke not to start services.
  const ownPolicy = !existsSync(POLICY);
  if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\n# written by rebound stack/powerdns.ts for one apt-get install\nexit 101\n', { mode: 0o755 });
  try {
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (install.status !== 0 || !installed())
      throw new Error(`cannot install PowerDNS (apt-get exited ${install.status}): ${(install.stderr ?? '').trim().slice(-2000)}`);
  } finally {
    if (ownPolicy) rmSync(POLICY, { force: true });
  }
  disableSystemService();
  return SERVER;
}

export interface PowerDnsServer {
  /** http://127.0.0.1:PORT — the HTTP API's base; paths start with /api/v1. */
  apiUrl: string;
  apiKey: string;
  serverId: 'localhost';
  /** The authoritative DNS port on 127.0.0.1 (UDP and TCP). */
  dnsPort: number;
  /** The current server process (a new one after start()). */
  readonly pid: number;
  /** Stops the server; removes its private folder unless keepData (so start() can resume it). */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again after stop({keepData: true}), on the same ports and data. */
  start(): Promise<void>;
  /** One call to the HTTP API under /api/v1/servers/localhost; throws on a non-2xx answer. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * A fresh connection per call: PowerDNS's webserver closes idle keep-alive connections, and a
 * PATCH written onto one it has just closed fails as "other side closed" (undici retries only
 * idempotent methods). Seen in CI setting up the failover site.
 */
async function callApi<T>(apiUrl: string, apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${apiUrl}/api/v1/servers/localhost${path}`, {
    method,
    headers: { 'X-API-Key': apiKey, connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`PowerDNS API ${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

function config(dir: string, dnsPort: number, apiPort: number, apiKey: string): string {
  return [
    'launch=gsqlite3',
    `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    'api=yes',
    `api-key=${apiKey}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${apiPort}`,
    'webserver-allow-from=127.0.0.0/8',
    'daemon=no',
    'guardian=no',
    `socket-dir=${dir}`,
    // No internet here: the security poll would be a DNS query to powerdns.com on start.
    'security-poll-suffix=',
    'disable-syslog=yes',
    'loglevel=4',
    'receiver-threads=1',
    'distributor-threads=1',
    '',
  ].join('\n');
}

/** The API answers with the key, and the DNS port answers a query (REFUSED is an answer). */
async function ready(apiUrl: string, apiKey: string, dnsPort: number): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/api/v1/servers/localhost`, {
      headers: { 'X-API-Key': apiKey, connection: 'close' },
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok) return false;
  } catch {
    return false;
  }
  const resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  try {
    await resolver.resolveSoa('rebound-probe.invalid');
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== 'ECONNREFUSED' && code !== 'ETIMEOUT';
  }
}

/** A private PowerDNS: its own folder under the OS temp dir, sqlite database, free ports, random API key. */
export async function startPowerDns(options: { log?: (line: string) => void } = {}): Promise<PowerDnsServer> {
  const binary = ensurePowerDns(options.log);
  // Under the OS temp dir, not the checkout: the checkout may sit in a mode-700 directory.
  const dir = mkdtempSync(join(tmpdir(), 'rebound-pdns-'));
  const schemaFile = findSchema()!;
  const schema = schemaFile.endsWith('.gz') ? gunzipSync(readFileSync(schemaFile)).toString('utf8') : readFileSync(schemaFile, 'utf8');
  const init = spawnSync('sqlite3', [join(dir, 'pdns.sqlite3')], { input: schema, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`cannot create the PowerDNS sqlite database from ${schemaFile}: ${init.stderr}`);
  const [dnsPort, apiPort] = await freePorts(2);
  const apiKey = randomBytes(18).toString('hex');
  writeFileSync(join(dir, 'pdns.conf'), config(dir, dnsPort!, apiPort!, apiKey), { mode: 0o600 });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const proc = new ServerProcess({
    name: `PowerDNS (API ${apiUrl}, DNS port ${dnsPort})`,
    command: binary,
    args: [`--config-dir=${dir}`],
    logFile: join(dir, 'pdns.log'),
    ready: () => ready(apiUrl, apiKey, dnsPort!),
  });
  const start = () => proc.start();
  const stop = async (stopOptions: { keepData?: boolean } = {}): Promise<void> => {
    await proc.stop();
    if (!stopOptions.keepData) rmSync(dir, { recursive: true, force: true });
  };
  await start();
  return {
    apiUrl,
    apiKey,
    serverId: 'localhost',
    dnsPort: dnsPort!,
    get pid() {
      return proc.pid!;
    },
    stop,
    start,
    api: (method, path, body) => callApi(apiUrl, apiKey, method, path, body),
  };
}
