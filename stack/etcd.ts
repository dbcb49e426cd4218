// etcd 3.4 from Debian for tests: one member on free loopback ports, authentication on (root with a random password).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePorts } from './ports.ts';
import { ServerProcess, type RestartableServer } from './process.ts';

const SERVER = '/usr/bin/etcd';
const CTL = '/usr/bin/etcdctl';

/** etcd and etcdctl (Debian 12: 3.4.23), installed with apt-get when missing. */
export function ensureEtcd(log: (line: string) => void = () => {}): string {
  aptInstall('etcd', ['etcd-server', 'etcd-client'], () => existsSync(SERVER) && existsSync(CTL), log);
  spawnSync('systemctl', ['disable', '--now', 'etcd.service'], { stdio: 'ignore' });
  return SERVER;
}

export interface EtcdServer extends RestartableServer {
  endpoint: string;
  password: string;
  /** etcdctl against it as root: test setup only (the password is in its argv). */
  ctl(args: string[]): string;
}

export async function startEtcd(options: { log?: (line: string) => void } = {}): Promise<EtcdServer> {
  ensureEtcd(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-etcd-server-'));
  const [clientPort, peerPort] = await freePorts(2);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const password = randomBytes(12).toString('hex');
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
  const proc = new ServerProcess({
    name: 'etcd',
    command: SERVER,
    args: [
      '--name=test',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
    ],
    logFile: join(dir, 'etcd.log'),
    ready: async () => (await fetch(`${endpoint}/health`)).ok,
  });
  const server: EtcdServer = {
    endpoint,
    password,
    ctl,
    pid: () => proc.pid,
    start: () => proc.start(),
    stop: () => proc.stop(),
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
