// Redis 7 from Debian for tests: a server on a free loopback port with a random password and no persistence of its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePort } from './ports.ts';

const SERVER = '/usr/bin/redis-server';
const CLI = '/usr/bin/redis-cli';

/** redis-server and redis-cli (Debian 12: Redis 7.0), installed with apt-get when missing. */
export function ensureRedis(log: (line: string) => void = () => {}): string {
  aptInstall('Redis', ['redis-server', 'redis-tools'], () => existsSync(SERVER) && existsSync(CLI), log);
  // Debian's package enables its own service; the stack never uses it.
  spawnSync('systemctl', ['disable', '--now', 'redis-server.service'], { stdio: 'ignore' });
  return SERVER;
}

export interface RedisServer {
  port: number;
  password: string;
  url(password?: string): string;
  pid(): number | undefined;
  /** Runs redis-cli against it (the password through REDISCLI_AUTH) and returns its output. */
  cli(args: string[]): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(options: { log?: (line: string) => void } = {}): Promise<RedisServer> {
  ensureRedis(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-redis-server-'));
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  let child: ChildProcess | undefined;
  const cli = (args: string[]) => {
    const r = spawnSync(CLI, ['-p', String(port), ...args], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: password }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const server: RedisServer = {
    port,
    password,
    url: (pw = password) => `redis://:${encodeURIComponent(pw)}@127.0.0.1:${port}`,
    pid: () => child?.pid,
    cli,
    async start() {
      const log = join(dir, 'redis.log');
      const out = openSync(log, 'a');
      child = spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--dir', dir, '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', out, out],
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if (cli(['PING']).trim() === 'PONG') return;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${readFileSync(log, 'utf8').slice(-2000)}`);
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
  return server;
}
