// etcd 3.4 from Debian for tests: one member on free loopback ports, authentication on (root with a random password).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePorts } from './ports.ts';

const SERVER = '/usr/bin/etcd';
const CTL = '/usr/bin/etcdctl';

/** etcd and etcdctl (Debian 12: 3.4.23), installed with apt-get when missing. */
export function ensureEtcd(log: (line: string) => void = () => {}): string {
  aptInstall('etcd', ['etcd-server', 'etcd-client'], () => existsSync(SERVER) && existsSync(CTL), log);
  spawnSync('systemctl', ['disable', '--now', 'etcd.service'], { stdio: 'ignore' });
  return SERVER;
}

export interface EtcdServer {
  endpoint: string;
  password: string;
  /** etcdctl against it as root: test setup only (the password is in its argv). */
  ctl(args: string[]): string;
  pid(): number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startEtcd(options: { log?: (line: string) => void } = {}): Promise<EtcdServer> {
  ensureEtcd(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-etcd-server-'));
  const [clientPort, peerPort] = await freePorts(2);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const password = randomBytes(12).toString('hex');
  let child: ChildProcess | undefined;
  let auth = false;
  const ctl = (args: string[]) => {
    const r = spawnSync(CTL, [`--endpoints=${endpoint}`, '--command-timeout=60s', ...(auth ? [`--user=root:${password}`] : []), ...args], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const server: EtcdServer = {
    endpoint,
    password,
    ctl,
    pid: () => child?.pid,
    async start() {
      const log = join(dir, 'etcd.log');
      const out = openSync(log, 'a');
      child = spawn(
        SERVER,
        [
          '--name=test',
          `--data-dir=${join(dir, 'data')}`,
          `--listen-client-urls=${endpoint}`,
          `--advertise-client-urls=${endpoint}`,
          `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        ],
        { stdio: ['ignore', out, out] },
      );
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if ((await fetch(`${endpoint}/health`)).ok) return;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`etcd did not start: ${readFileSync(log, 'utf8').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  ctl(['user', 'add', `root:${password}`]);
  ctl(['auth', 'enable']);
  auth = true;
  return server;
}
