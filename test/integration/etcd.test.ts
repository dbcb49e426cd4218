// etcd.snapshot/etcd.restore against a real etcd 3.4 (Debian) with authentication on: round trip, wrong password, member down, corruption.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdRestoreImpl } from '../../activities/etcd/restore.ts';
import { etcdSnapshotImpl } from '../../activities/etcd/snapshot.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { toActivity, type ActionImpl } from '../../activities/runtime/wrap.ts';
import type { ActionInput, ActionResult } from '../../contract/run.ts';
import { startEtcd, type EtcdServer } from '../../stack/etcd.ts';
import { freePorts } from '../../stack/ports.ts';

let etcd: EtcdServer;
let dir: string;
let storage: string;

beforeAll(async () => {
  etcd = await startEtcd({ log: (line) => console.log(`[etcd] ${line}`) });
  for (let i = 0; i < 120; i++) etcd.ctl(['put', `/registry/orders/${i}`, `{"id":${i},"name":"order ${i} — ünïcode"}`]);
  etcd.ctl(['put', '/config/mode', 'primary']);
  dir = mkdtempSync(join(tmpdir(), 'rebound-etcd-test-'));
  storage = `file://${join(dir, 'store')}`;
  process.env.ETCD_TEST_PASSWORD = etcd.password;
  process.env.ETCD_TEST_WRONG = 'not-the-password';
}, 300_000); // the first run installs etcd from Debian

afterAll(async () => {
  await etcd?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
const input = (impl: ActionImpl, w: Record<string, unknown>): ActionInput => ({
  runbook: 'nightly-backup',
  run_id: `run-${++runs}`,
  step: 'snapshot-etcd',
  backend: impl.spec.backend,
  simulate: false,
  max_attempts: 3,
  with: { storage: { url: storage }, ...w },
  secrets: { pw: { env: 'ETCD_TEST_PASSWORD' }, wrong: { env: 'ETCD_TEST_WRONG' } },
});
const run = (impl: ActionImpl, w: Record<string, unknown>): Promise<ActionResult> => new MockActivityEnvironment().run(toActivity(impl), input(impl, w));
const auth = { user: 'root', password: { $secret: 'pw' } };

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }
  throw new Error('expected the action to fail');
}

const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });

describe('etcd.snapshot and etcd.restore on etcd 3.4', () => {
  it(
    'streams a snapshot and restores it: a scratch member holds every key; a placed data directory starts a member with the same values',
    { timeout: 120_000 },
    async () => {
      const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-main' });
      expect(snap.outputs).toMatchObject({ service: 'etcd-main', keys: 121 });
      expect(snap.outputs.revision).toBeGreaterThan(120);
      const point = await points().find(snap.outputs.restore_point_id as string);
      expect(point.server_version).toMatch(/^3\.4\./);
      expect(JSON.stringify(point)).not.toContain(etcd.password);

      const scratch = await run(etcdRestoreImpl, { restore_point: point.id, auth, keys: ['/config/mode', '/registry/orders/119'] });
      expect(scratch.outputs).toMatchObject({ mode: 'scratch', keys: 121, data_dir: null });

      const dataDir = join(dir, 'placed');
      const [client, peer] = await freePorts(2);
      const cluster = `rebuilt=http://127.0.0.1:${peer}`;
      const placed = await run(etcdRestoreImpl, { restore_point: point.id, mode: 'place', data_dir: dataDir, name: 'rebuilt', initial_cluster: cluster });
      expect(placed.outputs).toMatchObject({ mode: 'place', data_dir: dataDir });
      const member = spawn('etcd', [
        '--name=rebuilt',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=${cluster}`,
      ]);
      try {
        const get = (key: string) =>
          spawnSync('etcdctl', [`--endpoints=http://127.0.0.1:${client}`, `--user=root:${etcd.password}`, 'get', key, '--print-value-only'], {
            encoding: 'utf8',
            env: { ...process.env, ETCDCTL_API: '3' },
          }).stdout.trim();
        for (let i = 0; i < 100 && get('/config/mode') !== 'primary'; i++) await new Promise((r) => setTimeout(r, 100));
        expect(get('/config/mode')).toBe('primary');
        expect(get('/registry/orders/7')).toBe('{"id":7,"name":"order 7 — ünïcode"}');
      } finally {
        member.kill('SIGTERM');
      }
      const again = await failureOf(run(etcdRestoreImpl, { restore_point: point.id, mode: 'place', data_dir: dataDir }));
      expect(again.message).toContain('already exists; etcd restores only into a new data directory');
    },
  );

  it('a wrong password fails without retry, says so, and leaves no restore point', async () => {
    const failure = await failureOf(
      run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth: { user: 'root', password: { $secret: 'wrong' } }, service: 'etcd-denied' }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('authentication_failed');
    expect(failure.message).toContain('(check the user and password in the secret)');
    expect(failure.message).not.toContain('not-the-password');
    expect(await points().scan('etcd-denied')).toEqual([]);
  });

  it('a member that is down fails with a retry verdict, leaving nothing behind', async () => {
    await etcd.stop();
    try {
      const failure = await failureOf(run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-down' }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/cannot reach etcd at http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/authenticate: ECONNREFUSED — will retry/);
      expect(await points().scan('etcd-down')).toEqual([]);
    } finally {
      await etcd.start();
    }
  });

  it('a flipped byte in the stored snapshot is refused without retry', async () => {
    const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-corrupt' });
    const p = points();
    const point = await p.find(snap.outputs.restore_point_id as string);
    const file = new URL(`${storage}/${p.keyOf(point)}`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const failure = await failureOf(run(etcdRestoreImpl, { restore_point: point.id, auth }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('corrupt_restore_point');
  });
});
