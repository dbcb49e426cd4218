// etcd.snapshot/etcd.restore/backup.verify against a real etcd 3.4 (Debian) with authentication on: round trip, wrong password, member down, corruption, the CLI's verify.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { etcdRestoreImpl } from '../../activities/etcd/restore.ts';
import { etcdSnapshotImpl } from '../../activities/etcd/snapshot.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import { startEtcd, type EtcdServer } from '../../stack/etcd.ts';
import { freePorts } from '../../stack/ports.ts';
import { rebound } from '../helpers/cli.ts';
import { uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';
import { failureOf } from '../helpers/failure.ts';

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

const { run } = stepRunner({
  runbook: 'nightly-backup',
  step: 'snapshot-etcd',
  with: () => ({ storage: { url: storage } }),
  secrets: { pw: { env: 'ETCD_TEST_PASSWORD' }, wrong: { env: 'ETCD_TEST_WRONG' } },
});
const auth = { user: 'root', password: { $secret: 'pw' } };

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
        // A member on a placed data dir can take a while to serve on a loaded machine: a deadline, not a count of tries.
        const deadline = Date.now() + 60_000;
        while (get('/config/mode') !== 'primary' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
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
    expect(failure.type).toBe('auth_failed');
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
    expect(failure.type).toBe('verification_failed');
  });

  it(
    'backup.verify restores a point into a scratch member, checks its keys and marks it verified; a missing key or too few keys fail it',
    { timeout: 120_000 },
    async () => {
      const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
      const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-verify' });
      const id = snap.outputs.restore_point_id as string;
      const ok = await run(verify, { restore_point: id, auth, checks: { tables: ['/config/mode', '/registry/orders/0'] } });
      expect(ok.outputs).toMatchObject({ status: 'verified' });
      expect(ok.outputs.checks).toContainEqual({
        check: 'restore',
        ok: true,
        detail: 'a scratch etcd member holds 121 keys, /config/mode, /registry/orders/0 among them',
      });
      expect((await points().find(id)).status).toBe('verified');
      expect(JSON.stringify(ok)).not.toContain(etcd.password);

      const missing = await failureOf(run(verify, { restore_point: id, auth, checks: { tables: ['/no/such/key'] } }));
      expect(missing.nonRetryable).toBe(true);
      expect(missing.message).toContain('etcd: step "snapshot-etcd": restore point');
      expect(missing.message).toContain('failed verification: restore: the restored data lacks /no/such/key');
      expect((await points().find(id)).status).toBe('failed');
      const few = await failureOf(run(verify, { restore_point: id, auth, checks: { min_rows: { keys: 500 } } }));
      expect(few.message).toContain('the restored data holds 121 keys; expected at least 500');
      // The scratch members were stopped and their folders removed.
      expect(spawnSync('pgrep', ['-f', 'rebound-etcd-verify-']).stdout.toString().trim()).toBe('');
      expect(readdirSync(tmpdir()).filter((d) => d.startsWith('rebound-etcd-verify-'))).toEqual([]);
    },
  );

  it('backup.verify of a point taken with authentication asks for auth, refuses a wrong password without a verdict, and never shows it', async () => {
    const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
    const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-verify-auth' });
    const id = snap.outputs.restore_point_id as string;
    const none = await failureOf(run(verify, { restore_point: id }));
    expect(none.nonRetryable).toBe(true);
    expect(none.type).toBe('invalid_input');
    expect(none.message).toContain('was taken with authentication on (user root)');
    const wrong = await failureOf(run(verify, { restore_point: id, auth: { user: 'root', password: { $secret: 'wrong' } } }));
    expect(wrong.nonRetryable).toBe(true);
    expect(wrong.type).toBe('auth_failed');
    expect(wrong.message).not.toContain('not-the-password');
    // Neither is a verdict on the point.
    expect((await points().find(id)).status).not.toBe('failed');
  }, 60_000);

  it("`rebound restore-points verify` passes etcd auth from the worker's environment; without it the point asks for auth", async () => {
    const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-verify-cli' });
    const id = snap.outputs.restore_point_id as string;
    const site = uniqueSite('etcd-cli');
    const worker = await startWorkerProcess({
      address: inject('temporalAddress'),
      site,
      bundle: inject('workflowBundle'),
      env: { ETCD_CLI_PASSWORD: etcd.password },
    });
    try {
      const cli = (extra: string[]) =>
        rebound(['restore-points', 'verify', id, '--storage', storage, '--site', site, '--json', ...extra], { TEMPORAL_ADDRESS: inject('temporalAddress') });
      const ok = await cli(['--etcd-user', 'root', '--etcd-password-env', 'ETCD_CLI_PASSWORD']);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).steps[0].outputs).toMatchObject({ restore_point_id: id, status: 'verified' });
      const none = await cli([]);
      expect(none.code).toBe(1);
      expect(none.stdout + none.stderr).toContain('was taken with authentication on (user root)');
      const half = await cli(['--etcd-user', 'root']);
      expect(half.code).toBe(2);
      expect(half.stderr).toContain('--etcd-user and --etcd-password-env go together');
      expect(ok.stdout + none.stdout + none.stderr + worker.output()).not.toContain(etcd.password);
    } finally {
      await worker.kill();
    }
  }, 120_000);

  it('backup.verify of a point with a flipped byte fails its sha256 and is marked failed without a scratch member', async () => {
    const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
    const snap = await run(etcdSnapshotImpl, { endpoint: etcd.endpoint, auth, service: 'etcd-verify-corrupt' });
    const p = points();
    const point = await p.find(snap.outputs.restore_point_id as string);
    const file = new URL(`${storage}/${p.keyOf(point)}`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const failure = await failureOf(run(verify, { restore_point: point.id, auth }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('verification_failed');
    expect(failure.message).toMatch(/failed verification: sha256: read \d+ bytes, sha256 [0-9a-f]{64}; manifest/);
    expect((await p.find(point.id)).status).toBe('failed');
  });
});
