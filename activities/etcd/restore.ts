// etcd.restore: download and check a snapshot point, `etcdctl snapshot restore` it into a new data directory, then start a scratch member on it or leave it placed.
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { etcdRestore } from '../../contract/actions/etcd.ts';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { restoreDataDir, scratchRestore } from './scratch.ts';
import { ETCD_KIND } from './snapshot.ts';

export async function download(points: RestorePoints, point: RestorePoint, file: string, ctx: ActionContext): Promise<void> {
  const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'download', bytes }));
  await pipeline(await points.open(point), digest, createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  if (digest.sha256 !== point.sha256 || digest.bytes !== point.size)
    throw new ActionError(
      'verification_failed',
      `${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size}, ${point.sha256}`,
      {
        retryable: false,
      },
    );
}

export const etcdRestoreImpl = defineImpl({
  spec: etcdRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== ETCD_KIND)
      throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not an etcd snapshot`, { retryable: false });
    if (input.mode === 'place' && existsSync(input.data_dir!))
      throw new ActionError('conflict', `${input.data_dir} already exists; etcd restores only into a new data directory`, { retryable: false });
    const work = mkdtempSync(join(input.mode === 'place' ? dirname(input.data_dir!) : tmpdir(), '.rebound-etcd-'));
    try {
      const file = join(work, 'snapshot.db');
      await download(points, point, file, ctx);
      if (input.mode === 'place') {
        const peer = 'http://127.0.0.1:2380';
        const cluster = input.initial_cluster ?? `${input.name}=${peer}`;
        const own =
          cluster
            .split(',')
            .find((m) => m.startsWith(`${input.name}=`))
            ?.split('=')[1] ?? peer;
        // Restored beside the target and renamed: a half-restored directory never carries its name.
        await restoreDataDir(file, join(work, 'data'), { name: input.name, cluster, peer: own }, ctx);
        await rename(join(work, 'data'), input.data_dir!);
        ctx.log('info', `placed ${point.id} at ${input.data_dir} for member ${input.name}`);
        return { ...restoredOutput(point), mode: 'place' as const, keys: null, data_dir: input.data_dir! };
      }
      const keys = await scratchRestore(file, work, point, input, ctx);
      ctx.log('info', `${point.id} starts a scratch etcd with ${keys} keys`);
      return { ...restoredOutput(point), mode: 'scratch' as const, keys, data_dir: null };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
});
