// A throwaway redis-server on loopback that loads a restored RDB, for drills and checks; stopped and removed after use.
import { spawn } from 'node:child_process';
import { ActionError } from '../runtime/errors.ts';
import { freePort } from '../runtime/ports.ts';
import { redisCommand, type RedisTarget } from './cli.ts';

export interface ScratchRedis {
  target: RedisTarget;
  stop(): Promise<void>;
}

/** Starts redis-server on `dir/dump.rdb` (never saving back over it) and waits until it has loaded it. */
export async function startScratch(dir: string, signal: AbortSignal): Promise<ScratchRedis> {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--dbfilename',
    'dump.rdb',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) =>
      reject(new ActionError('unsupported', `redis-server: ${error.message}; install Redis on the worker for scratch restores`, { retryable: false })),
    );
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  await spawned;
  const target: RedisTarget = { host: '127.0.0.1', port, tls: false };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new ActionError('verification_failed', `the scratch redis-server could not load the RDB: ${output.trim().split('\n').slice(-3).join(' | ')}`, {
        retryable: false,
      });
    const pong = await redisCommand(target, ['PING'], { signal, mask: (t) => t }).catch(() => '');
    if (pong.trim() === 'PONG') return { target, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new ActionError('timeout', 'the scratch redis-server did not load the RDB within 120 s', { retryable: true });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
