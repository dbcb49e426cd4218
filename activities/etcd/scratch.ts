// A throwaway etcd member on a restored snapshot, shared by etcd.restore (mode: scratch) and backup.verify: restore, start, count and look up keys, stop.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { freePort } from '../runtime/ports.ts';
import { runTool } from '../runtime/tool.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { authenticate, keyCount, keyExists } from './gateway.ts';

export interface ScratchChecks {
  /** At least this many keys; by default as many as the snapshot recorded. */
  min_keys?: number | undefined;
  /** Keys that must exist. */
  keys: string[];
  /** A user of the restored data: `etcdctl snapshot restore` keeps the auth store, so a snapshot taken with auth needs one. */
  auth?: { user: string; password: string } | undefined;
}

/** `etcdctl snapshot restore`, which also checks the hash etcd appended to the snapshot. */
export async function restoreDataDir(
  file: string,
  dataDir: string,
  member: { name: string; cluster: string; peer: string },
  ctx: ActionContext,
): Promise<void> {
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

/** A member on the restored data, on free loopback ports; its keys are counted and looked up, then it is stopped. */
async function checkMember(dataDir: string, peerPort: number, point: RestorePoint, checks: ScratchChecks, ctx: ActionContext): Promise<number> {
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
        throw new ActionError('verification_failed', `the scratch etcd exited ${child.exitCode} on the restored data`, { retryable: false });
      counted = await authenticate(base, checks.auth)
        .then(keyCount)
        .catch((error: unknown) => {
          if (error instanceof ActionError && error.code === 'auth_failed') throw error;
          return undefined;
        });
      if (!counted) await new Promise((r) => setTimeout(r, 100));
    }
    if (!counted) throw new ActionError('timeout', 'the scratch etcd did not answer within 30 s', { retryable: true });
    const expected = checks.min_keys ?? Number(point.source.keys ?? 0);
    if (counted.keys < expected)
      throw new ActionError('verification_failed', `the restored data holds ${counted.keys} keys; expected at least ${expected}`, { retryable: false });
    const member = await authenticate(base, checks.auth);
    const missing: string[] = [];
    for (const key of checks.keys) if (!(await keyExists(member, key))) missing.push(key);
    if (missing.length) throw new ActionError('verification_failed', `the restored data lacks ${missing.join(', ')}`, { retryable: false });
    return counted.keys;
  } finally {
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Restores the downloaded snapshot `file` into `work`/scratch-data, runs a member on it until
 * its keys are checked, then removes the data directory. Returns the key count.
 */
export async function scratchRestore(file: string, work: string, point: RestorePoint, checks: ScratchChecks, ctx: ActionContext): Promise<number> {
  const peerPort = await freePort();
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(work, 'scratch-data');
  try {
    await restoreDataDir(file, dataDir, { name: 'scratch', cluster: `scratch=${peer}`, peer }, ctx);
    return await checkMember(dataDir, peerPort, point, checks, ctx);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
