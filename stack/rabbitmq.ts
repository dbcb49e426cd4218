// RabbitMQ 3.10 from Debian for tests: private nodes (own name, ports, epmd, data) with the management plugin on loopback and a random admin password.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePorts } from './ports.ts';
import { alive, stopProcess, type RestartableServer } from './process.ts';

// The scripts under /usr/sbin re-run themselves as the rabbitmq user with Debian's paths; these take ours.
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const EPMD = '/usr/bin/epmd';
// Erlang distribution listens on every interface unless told otherwise.
const LOOPBACK_DIST = '-kernel inet_dist_use_interface {127,0,0,1}';

/** rabbitmq-server (Debian 12: RabbitMQ 3.10.8 on Erlang/OTP 25), installed with apt-get when missing. */
export function ensureRabbitMq(log: (line: string) => void = () => {}): string {
  aptInstall('RabbitMQ', ['rabbitmq-server'], () => existsSync(SERVER) && existsSync(CTL) && existsSync(EPMD), log);
  // Debian's package enables its own service (and epmd's socket); the stack never uses them.
  spawnSync('systemctl', ['disable', '--now', 'rabbitmq-server.service'], { stdio: 'ignore' });
  return SERVER;
}

export interface RabbitMqServer extends RestartableServer {
  node: string;
  port: number;
  managementPort: number;
  user: string;
  password: string;
  /** The management API's URL with the admin's credentials, as a secret would hold it. */
  url(password?: string): string;
  /** Calls the management API as the admin (test setup and assertions). */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Runs rabbitmqctl against this node and returns its output. */
  ctl(args: string[]): string;
  /** The Erlang VM's pid while it runs. */
}

/** Whether a node failed because a port picked for it was taken before it could bind it (another server starting at the same time). */
function portTaken(dir: string, output: string): boolean {
  // The distribution port is checked before the node logs anything: that refusal is only on its stdout.
  if (output.includes('dist_port_already_used')) return true;
  const logs = join(dir, 'log');
  return existsSync(logs) && readdirSync(logs).some((f) => f.endsWith('.log') && readFileSync(join(logs, f), 'utf8').includes('eaddrinuse'));
}

export async function startRabbitMq(options: { log?: (line: string) => void } = {}): Promise<RabbitMqServer> {
  ensureRabbitMq(options.log);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNode();
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt === 3) throw error;
      options.log?.(`a port picked for RabbitMQ was taken before it bound it; starting again with other ports (attempt ${attempt + 1})`);
    }
  }
}

async function startNode(): Promise<RabbitMqServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-rabbitmq-server-'));
  const [port, managementPort, distPort, epmdPort] = await freePorts(4);
  const node = `rebound-${randomBytes(4).toString('hex')}@localhost`;
  const user = `rebound-admin-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  const config = join(dir, 'rabbitmq.conf');
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(
    config,
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${managementPort}`,
      `default_user = ${user}`,
      `default_pass = ${password}`,
      // Queue counters (messages, consumers) reach the API after this interval; the default is 5 s.
      'collect_statistics_interval = 1000',
      // A shared test machine's disk may be fuller than the 50 MB default allows for.
      'disk_free_limit.absolute = 1MB',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The Erlang cookie lands in HOME.
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'beam.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DIST,
    RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST,
  };
  let child: ChildProcess | undefined;
  // epmd on its own port, started here so that its pid is ours to stop (a node would start it as a daemon).
  let epmd: ChildProcess | undefined;
  const base = `http://127.0.0.1:${managementPort}`;
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const beamPid = () => {
    const file = join(dir, 'beam.pid');
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  };
  const server: RabbitMqServer = {
    node,
    port,
    managementPort,
    user,
    password,
    url: (pw = password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@127.0.0.1:${managementPort}`,
    async api(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    ctl(args) {
      const r = spawnSync(CTL, ['-n', node, ...args], { encoding: 'utf8', env, cwd: dir, timeout: 120_000 });
      if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    pid: beamPid,
    async start() {
      if (!epmd || epmd.exitCode !== null || epmd.signalCode) {
        epmd = spawn(EPMD, ['-port', String(epmdPort), '-address', '127.0.0.1'], { stdio: 'ignore', env });
        await new Promise((r) => setTimeout(r, 200));
      }
      const log = join(dir, 'server.log');
      const out = openSync(log, 'a');
      child = spawn(SERVER, [], { stdio: ['ignore', out, out], env, cwd: dir });
      const deadline = Date.now() + 180_000;
      for (;;) {
        const up = await fetch(`${base}/api/overview`, { headers: { authorization: auth } }).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        if (child.exitCode !== null || Date.now() > deadline) {
          const output = readFileSync(log, 'utf8');
          const error = new Error(`rabbitmq-server did not start: ${output.slice(-2000)}`);
          throw portTaken(dir, output) ? Object.assign(error, { code: 'EADDRINUSE' }) : error;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child!.once('exit', r));
      const pid = beamPid();
      spawnSync(CTL, ['-n', node, 'stop'], { stdio: 'ignore', env, cwd: dir, timeout: 60_000 });
      // A node that did not halt is killed; its shell wrapper exits with it.
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      await exited;
    },
    async destroy() {
      await server.stop();
      await stopProcess(epmd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}
