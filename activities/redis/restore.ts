// redis.restore: an RDB point downloaded and checked, then loaded by a scratch redis-server (with key checks) or placed as a dump file.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { redisRestore } from '../../contract/actions/redis.ts';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { keysIn, redisCommand } from './cli.ts';
import { startScratch } from './scratch.ts';
import { REDIS_KIND } from './snapshot.ts';

/** Writes the point's RDB to `file`, refusing (without retry) bytes that differ from the manifest. */
export async function download(points: RestorePoints, point: RestorePoint, file: string, ctx: ActionContext): Promise<void> {
  const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'download', bytes }));
  await pipeline(await points.open(point), digest, createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  if (digest.sha256 !== point.sha256 || digest.bytes !== point.size)
    throw new ActionError(
      'verification_failed',
      `${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size}, ${point.sha256}`,
      { retryable: false },
    );
}

/** Loads the RDB into a scratch server and checks it: key count against min_keys (or the snapshot's), named keys present. */
export async function scratchRestore(dir: string, point: RestorePoint, input: { min_keys?: number | undefined; keys: string[] }, ctx: ActionContext) {
  const scratch = await startScratch(dir, ctx.signal);
  try {
    const options = { signal: ctx.signal, mask: ctx.mask };
    const keys = keysIn(await redisCommand(scratch.target, ['INFO', 'keyspace'], options));
    const expected = input.min_keys ?? Number(point.source.keys ?? 0);
    if (keys < expected)
      throw new ActionError(
        'verification_failed',
        `the restored RDB holds ${keys} keys; expected at least ${expected}${input.min_keys === undefined ? ' (as the snapshot recorded)' : ''}`,
        {
          retryable: false,
        },
      );
    const missing: string[] = [];
    for (const key of input.keys) if ((await redisCommand(scratch.target, ['EXISTS', key], options)).trim() !== '1') missing.push(key);
    if (missing.length) throw new ActionError('verification_failed', `the restored RDB lacks ${missing.join(', ')}`, { retryable: false });
    return keys;
  } finally {
    await scratch.stop();
  }
}

export const redisRestoreImpl = defineImpl({
  spec: redisRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== REDIS_KIND)
      throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not a Redis RDB`, { retryable: false });
    if (input.mode === 'place') {
      // Written beside the target and renamed: a server starting meanwhile never loads half a file.
      const partial = `${input.path!}.rebound-partial`;
      try {
        await download(points, point, partial, ctx);
        await rename(partial, input.path!);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      ctx.log('info', `placed ${point.id} at ${input.path}; restart the server to load it`);
      return { ...restoredOutput(point), mode: 'place' as const, keys: null, path: input.path! };
    }
    const dir = mkdtempSync(join(tmpdir(), 'rebound-redis-'));
    try {
      const file = join(dir, 'dump.rdb');
      await download(points, point, file, ctx);
      const keys = await scratchRestore(dir, point, input, ctx);
      ctx.log('info', `${point.id} loads in a scratch redis-server: ${keys} keys`);
      return { ...restoredOutput(point), mode: 'scratch' as const, keys, path: null };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
