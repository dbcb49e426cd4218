// etcd.restore: download and check a snapshot point, `etcdctl snapshot restore` it into a new data directory, then start a scratch member on it or leave it placed.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { etcdRestore } from '../../contract/actions/etcd.ts';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { freePort } from '../runtime/ports.ts';
import { runTool } from '../runtime/tool.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { authenticate, keyCount, keyExists } from './gateway.ts';
import { ETCD_KIND } from './snapshot.ts';

type Input = z.output<typeof etcdRestore.input>;

async function download(points: RestorePoints, point: RestorePoint, file: string, ctx: ActionContext): Promise<void> {
  const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'download', bytes }));
  await pipeline(await points.open(point), digest, createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  if (digest.sha256 !== point.sha256 || digest.bytes !== point.size)
    throw new ActionError(
      'corrupt_restore_point',
      `${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size}, ${point.sha256}`,
      {
        retryable: false,
      },
    );
}

/** `etcdctl snapshot restore`, which also checks the hash etcd appended to the snapshot. */
async function restoreDataDir(file: string, dataDir: string, member: { name: string; cluster: string; peer: string }, ctx: ActionContext): Promise<void> {
  const tool = runTool({
    command: 'etcdctl',
    args: [
      'snapshot',
      'restore',
      file,
      '--data-dir',
      dataDir,
      '--name',
      member.name,
      '--initial-cluster',
      member.cluster,
      '--initial-advertise-peer-urls',
      member.peer,
    ],
    env: { ETCDCTL_API: '3' },
    signal: ctx.signal,
    mask: ctx.mask,
    retryable: () => false,
  });
  await tool.done;
}

/** A throwaway member on the restored data, on free loopback ports; its keys are counted and looked up, then it is stopped. */
async function scratchCheck(dataDir: string, peerPort: number, point: RestorePoint, input: Input, ctx: ActionContext): Promise<number> {
  const clientPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const child = spawn(
    'etcd',
    [
      '--name=scratch',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=scratch=http://127.0.0.1:${peerPort}`,
    ],
    { stdio: 'ignore' },
  );
  child.once('error', () => undefined);
  try {
    const base = { endpoint, signal: ctx.signal, mask: ctx.mask };
    let counted: { keys: number } | undefined;
    for (let i = 0; i < 300 && !counted; i++) {
      if (child.exitCode !== null)
        throw new ActionError('scratch_failed', `the scratch etcd exited ${child.exitCode} on the restored data`, { retryable: false });
      counted = await authenticate(base, input.auth)
        .then(keyCount)
        .catch((error: unknown) => {
          if (error instanceof ActionError && error.code === 'authentication_failed') throw error;
          return undefined;
        });
      if (!counted) await new Promise((r) => setTimeout(r, 100));
    }
    if (!counted) throw new ActionError('scratch_timeout', 'the scratch etcd did not answer within 30 s', { retryable: true });
    const expected = input.min_keys ?? Number(point.source.keys ?? 0);
    if (counted.keys < expected)
      throw new ActionError('too_few_keys', `the restored data holds ${counted.keys} keys; expected at least ${expected}`, { retryable: false });
    const member = await authenticate(base, input.auth);
    const missing: string[] = [];
    for (const key of input.keys) if (!(await keyExists(member, key))) missing.push(key);
    if (missing.length) throw new ActionError('missing_keys', `the restored data lacks ${missing.join(', ')}`, { retryable: false });
    return counted.keys;
  } finally {
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    child.kill('SIGTERM');
    await exited;
  }
}

export const etcdRestoreImpl = defineImpl({
  spec: etcdRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== ETCD_KIND)
      throw new ActionError('wrong_kind', `restore point ${point.id} is a ${point.kind} backup, not an etcd snapshot`, { retryable: false });
    if (input.mode === 'place' && existsSync(input.data_dir!))
      throw new ActionError('data_dir_exists', `${input.data_dir} already exists; etcd restores only into a new data directory`, { retryable: false });
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
      const peerPort = await freePort();
      const peer = `http://127.0.0.1:${peerPort}`;
      await restoreDataDir(file, join(work, 'data'), { name: 'scratch', cluster: `scratch=${peer}`, peer }, ctx);
      const keys = await scratchCheck(join(work, 'data'), peerPort, point, input, ctx);
      ctx.log('info', `${point.id} starts a scratch etcd with ${keys} keys`);
      return { ...restoredOutput(point), mode: 'scratch' as const, keys, data_dir: null };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
});
