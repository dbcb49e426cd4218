// HAProxy for tests and demos: Debian's package, one throwaway instance per call on loopback, with its Runtime API open.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { listening, ServerProcess } from './process.ts';

/** Debian bookworm's HAProxy (2.6 LTS); whatever the distribution ships is what we test against. */
export const HAPROXY_PACKAGE = 'haproxy';

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

function haproxyOnPath(): string | undefined {
  if (process.env.REBOUND_HAPROXY_BIN) return process.env.REBOUND_HAPROXY_BIN;
  for (const candidate of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('which', ['haproxy'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

/**
 * The package's maintainer scripts would start a system-wide HAProxy on port 80 and enable it
 * at boot; tests start their own. A policy-rc.d that answers 101 forbids invoke-rc.d from
 * starting anything during the install; one that already exists is left as the owner set it.
 */
function installWithoutStartingServices(log: (line: string) => void): { status: number | null; stderr: string } {
  const ours = !existsSync(POLICY_RC_D);
  if (ours) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# written by rebound while installing haproxy: start no services\nexit 101\n', { mode: 0o755 });
  try {
    log(`installing ${HAPROXY_PACKAGE} from Debian's packages`);
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', HAPROXY_PACKAGE], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return { status: install.status, stderr: install.stderr ?? String(install.error ?? '') };
  } finally {
    if (ours) unlinkSync(POLICY_RC_D);
  }
}

/** Whatever the existing policy allowed: the system service is disabled at boot and stopped if it runs. */
function disableSystemService(): void {
  const quiet = { stdio: 'ignore' as const };
  if (existsSync('/run/systemd/system')) spawnSync('systemctl', ['disable', '--now', 'haproxy'], quiet);
  else spawnSync('systemctl', ['disable', 'haproxy'], quiet);
  spawnSync('update-rc.d', ['haproxy', 'disable'], quiet);
  // Without systemd, only the init script knows its own pid file.
  if (existsSync('/run/haproxy.pid') && existsSync('/etc/init.d/haproxy')) spawnSync('/etc/init.d/haproxy', ['stop'], quiet);
}

/** The haproxy binary, installed with apt-get (as root) when missing. */
export function ensureHaproxy(log: (line: string) => void = () => {}): string {
  const found = haproxyOnPath();
  if (found) return found;
  const install = installWithoutStartingServices(log);
  disableSystemService();
  const binary = haproxyOnPath();
  if (!binary) throw new Error(`cannot install ${HAPROXY_PACKAGE} (apt-get exited ${install.status}): ${install.stderr.trim().slice(-2000)}`);
  return binary;
}

export interface HaproxyBackend {
  /** Server name → `host:port`. */
  servers: Record<string, string>;
  /** Servers that start in maintenance (`disabled` in the configuration), as a standby often does. */
  disabled?: string[];
}

export interface HaproxyServer {
  /** Backend name → URL of the HTTP frontend that serves it. */
  frontends: Record<string, string>;
  /** The first backend's frontend, for the common one-backend case. */
  frontendUrl: string;
  /** The Runtime API at admin level, as `tcp://`/`unix://` locations take them. */
  statsSocket: { tcp: string; unix: string };
  pid: number;
  version: string;
  stop(): Promise<void>;
}

// HAProxy identifiers: also keeps anything odd out of the generated configuration.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

function checkNames(backends: Record<string, HaproxyBackend>): void {
  if (Object.keys(backends).length === 0) throw new Error('startHaproxy needs at least one backend');
  for (const [backend, { servers, disabled = [] }] of Object.entries(backends)) {
    if (!NAME.test(backend)) throw new Error(`backend name ${JSON.stringify(backend)} is not a plain HAProxy identifier`);
    const unknown = disabled.filter((s) => !(s in servers));
    if (unknown.length) throw new Error(`backend ${backend}: disabled names no server ${unknown.join(', ')}`);
    for (const [server, address] of Object.entries(servers)) {
      if (!NAME.test(server)) throw new Error(`server name ${JSON.stringify(server)} is not a plain HAProxy identifier`);
      if (!ADDRESS.test(address)) throw new Error(`server ${server}: ${JSON.stringify(address)} is not host:port`);
    }
  }
}

function configText(options: { backends: Record<string, HaproxyBackend>; ports: number[]; statsPort: number; unixSocket: string; check: boolean }): string {
  const lines = [
    'global',
    // Both sockets at admin level: `set server` needs it.
    `  stats socket ipv4@127.0.0.1:${options.statsPort} level admin`,
    `  stats socket ${options.unixSocket} mode 600 level admin`,
    '  stats timeout 30s',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
  ];
  Object.entries(options.backends).forEach(([name, { servers, disabled = [] }], i) => {
    lines.push(`frontend fe_${name}`, `  bind 127.0.0.1:${options.ports[i]}`, `  default_backend ${name}`);
    lines.push(`backend ${name}`, '  balance roundrobin');
    // Checks are off by default so a server's state is exactly what the Runtime API set.
    const check = options.check ? ' check inter 200ms fall 1 rise 1' : '';
    for (const [server, address] of Object.entries(servers)) lines.push(`  server ${server} ${address}${check}${disabled.includes(server) ? ' disabled' : ''}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * One HAProxy in the foreground (`-db`) with an HTTP frontend per backend, each on a free
 * loopback port, and its Runtime API on a loopback TCP port and a unix socket. Its
 * configuration and sockets live in a private folder under the system temp dir, removed on stop.
 */
export async function startHaproxy(options: {
  backends: Record<string, HaproxyBackend>;
  check?: boolean;
  log?: (line: string) => void;
}): Promise<HaproxyServer> {
  checkNames(options.backends);
  const binary = ensureHaproxy(options.log);
  const version = spawnSync(binary, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'unknown';
  const dir = mkdtempSync(join(tmpdir(), 'rebound-haproxy-'));
  const names = Object.keys(options.backends);
  const [statsPort, ...ports] = await freePorts(names.length + 1);
  const unixSocket = join(dir, 'admin.sock');
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, configText({ backends: options.backends, ports, statsPort: statsPort!, unixSocket, check: options.check ?? false }));
  const proc = new ServerProcess({
    name: `HAProxy (Runtime API on 127.0.0.1:${statsPort})`,
    command: binary,
    args: ['-db', '-f', configFile],
    logFile: join(dir, 'haproxy.log'),
    ready: () => listening(statsPort!),
    timeoutMs: 15_000,
  });
  const stop = async (): Promise<void> => {
    await proc.stop(); // SIGTERM, a hard stop: listeners close and connections drop, as a crash would look to clients
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await proc.start();
  } catch (error) {
    await stop();
    throw error;
  }
  const frontends = Object.fromEntries(names.map((name, i) => [name, `http://127.0.0.1:${ports[i]}`]));
  options.log?.(`${version} pid ${proc.pid}: Runtime API on 127.0.0.1:${statsPort}`);
  return {
    frontends,
    frontendUrl: frontends[names[0]!]!,
    statsSocket: { tcp: `tcp://127.0.0.1:${statsPort}`, unix: `unix://${unixSocket}` },
    pid: proc.pid!,
    version,
    stop,
  };
}
