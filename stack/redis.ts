// Redis 7 from Debian for tests: a server on a free loopback port with a random password and no persistence of its own, optionally a replica of another.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePort } from './ports.ts';
import { ServerProcess, type RestartableServer } from './process.ts';

const SERVER = '/usr/bin/redis-server';
const CLI = '/usr/bin/redis-cli';

/** redis-server and redis-cli (Debian 12: Redis 7.0), installed with apt-get when missing. */
export function ensureRedis(log: (line: string) => void = () => {}): string {
  aptInstall('Redis', ['redis-server', 'redis-tools'], () => existsSync(SERVER) && existsSync(CLI), log);
  // Debian's package enables its own service; the stack never uses it.
  spawnSync('systemctl', ['disable', '--now', 'redis-server.service'], { stdio: 'ignore' });
  return SERVER;
}

export interface RedisServer extends RestartableServer {
  port: number;
  password: string;
  url(password?: string): string;
  /** Runs redis-cli against it (the password through REDISCLI_AUTH) and returns its output. */
  cli(args: string[]): string;
}

/** The arguments that make a server a replica of `master` (its password as masterauth), or none. */
function replication(master: RedisServer | undefined): string[] {
  return master ? ['--replicaof', '127.0.0.1', String(master.port), '--masterauth', master.password] : [];
}

/** `replicaOf`: start as a replica of that server. */
export async function startRedis(options: { log?: (line: string) => void; replicaOf?: RedisServer } = {}): Promise<RedisServer> {
  ensureRedis(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-redis-server-'));
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  const cli = (args: string[]) => {
    const r = spawnSync(CLI, ['-p', String(port), ...args], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: password }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const proc = new ServerProcess({
    name: 'redis-server',
    command: SERVER,
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      password,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...replication(options.replicaOf),
    ],
    logFile: join(dir, 'redis.log'),
    ready: () => cli(['PING']).trim() === 'PONG',
  });
  const server: RedisServer = {
    port,
    password,
    url: (pw = password) => `redis://:${encodeURIComponent(pw)}@127.0.0.1:${port}`,
    pid: () => proc.pid,
    cli,
    start: () => proc.start(),
    stop: () => proc.stop(),
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
