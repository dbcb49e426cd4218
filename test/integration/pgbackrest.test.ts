// pgbackrest.backup/restore, backup.verify and prune against Debian's pgBackRest 2.45 and a PostgreSQL 15 cluster archiving into an encrypted repository: PITR to three times, the window, a wrong passphrase, a retry that adopts.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { pgbackrestBackupImpl } from '../../activities/pgbackrest/backup.ts';
import { pgbackrestRestoreImpl } from '../../activities/pgbackrest/restore.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { startArchivingCluster, type ArchivingCluster } from '../../stack/pgbackrest.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { exactly, ledger } from '../helpers/ledger.ts';

let cluster: ArchivingCluster;
const root = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-test-'));
const storage = `file://${join(root, 'store')}`;

beforeAll(async () => {
  cluster = await startArchivingCluster({ log: (line) => console.log(`[pgbackrest] ${line}`) });
  process.env.PGBR_CIPHER = cluster.cipherPass;
  process.env.PGBR_WRONG = 'not-the-passphrase';
  await create();
}, 600_000); // the first run installs pgbackrest from Debian

afterAll(async () => {
  await cluster?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'pitr',
  step: 'backup-orders',
  with: () => ({ storage: { url: storage } }),
  secrets: { cipher: { env: 'PGBR_CIPHER' }, wrong: { env: 'PGBR_WRONG' } },
});
const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
const prune = IMPLEMENTATIONS.find((i) => i.spec.name === 'restore_points.prune')!;
const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
const credentials = { cipher_pass: { $secret: 'cipher' } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { commitRow, archived, create, now } = ledger(() => cluster.pg);

describe('pgBackRest on PostgreSQL 15', () => {
  let pointId = '';
  const commits: number[] = [];
  const between: string[] = [];

  it(
    'a backup creates and checks the stanza, records the set and its window; a retry after a crash before the commit adopts the same set',
    { timeout: 300_000 },
    async () => {
      const first = await run(pgbackrestBackupImpl, { service: 'orders-pg', ...cluster.backupWith('cipher') }, { run_id: 'backup-1' });
      pointId = first.outputs.restore_point_id as string;
      const point = await points().find(pointId);
      expect(point.kind).toBe('pgbackrest');
      expect(point.external![0]).toMatchObject({
        stanza: cluster.stanza,
        label: first.outputs.label,
        type: 'full',
        pg_version: '15',
        repository: { path: cluster.repoPath, encrypted: true },
      });
      expect(JSON.stringify(point)).not.toContain(cluster.cipherPass);
      const window = first.outputs.window as { from: string; to: string };
      expect(Date.parse(window.to)).toBeGreaterThanOrEqual(Date.parse(window.from));

      // The attempt died after pgBackRest finished and before the manifest: the retry takes no second backup.
      rmSync(join(root, 'store', 'orders-pg', 'pgbackrest', pointId, 'manifest.json'));
      const retry = await run(pgbackrestBackupImpl, { service: 'orders-pg', ...cluster.backupWith('cipher') }, { run_id: 'backup-1', attempt: 2 });
      expect(retry.outputs).toMatchObject({ restore_point_id: pointId, label: first.outputs.label });
      const labels = readdirSync(join(cluster.repoPath, 'backup', cluster.stanza)).filter((f) => /^\d{8}-\d{6}F$/.test(f));
      expect(labels).toEqual([first.outputs.label]);
    },
  );

  it(
    'restores into scratch to three different times: each holds exactly the rows committed before it, and reports the commit it reached',
    { timeout: 600_000 },
    async () => {
      for (let i = 1; i <= 3; i++) {
        commits.push(await commitRow(i));
        await sleep(1_100);
        between.push(await now());
        await sleep(1_100);
      }
      await commitRow(4);
      await archived();
      for (let n = 1; n <= 3; n++) {
        const restored = await run(pgbackrestRestoreImpl, {
          restore_point: pointId,
          target: { time: between[n - 1] },
          checks: exactly(n),
          pgbackrest: credentials,
        });
        expect(restored.outputs).toMatchObject({ mode: 'scratch' });
        expect((restored.outputs.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
        const reached = Date.parse(restored.outputs.reached as string);
        // The last commit replayed is row n's: no earlier than its insert, before the target.
        expect(reached).toBeGreaterThanOrEqual(commits[n - 1]!);
        expect(reached).toBeLessThan(Date.parse(between[n - 1]!));
        expect(restored.outputs.rpo_ms).toBe(Date.parse(between[n - 1]!) - reached);
      }
      const latest = await run(pgbackrestRestoreImpl, { restore_point: pointId, target: 'latest', checks: exactly(4), pgbackrest: credentials });
      expect((latest.outputs.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
      const wrongCount = await failureOf(
        run(pgbackrestRestoreImpl, { restore_point: pointId, target: { time: between[0] }, checks: exactly(2), pgbackrest: credentials }),
      );
      expect(wrongCount).toMatchObject({ type: 'check_failed' });
    },
  );

  it('a time outside the recoverable window fails at once, not retried, naming the window', { timeout: 120_000 }, async () => {
    for (const time of ['2020-01-01T00:00:00Z', new Date(Date.now() + 3_600_000).toISOString()]) {
      const failure = await failureOf(run(pgbackrestRestoreImpl, { restore_point: pointId, target: { time }, pgbackrest: credentials }));
      expect(failure).toMatchObject({ type: 'invalid_input', nonRetryable: true });
      expect(failure.message).toMatch(new RegExp(`to ${time.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its recoverable window is \\S+ … \\S+`));
    }
  });

  it('a wrong passphrase is auth_failed, not retried, naming the stanza and repository, the passphrase masked', { timeout: 120_000 }, async () => {
    const failure = await failureOf(
      run(pgbackrestRestoreImpl, { restore_point: pointId, target: 'latest', pgbackrest: { cipher_pass: { $secret: 'wrong' } } }),
    );
    expect(failure).toMatchObject({ type: 'auth_failed', nonRetryable: true });
    expect(failure.message).toContain(`stanza ${cluster.stanza} (repository posix ${cluster.repoPath})`);
    expect(failure.message).toContain('cipher passphrase is wrong');
    expect(failure.message).not.toContain('not-the-passphrase');
  });

  it('backup.verify runs pgbackrest verify and a scratch restore with checks; prune expires the set through pgBackRest', { timeout: 300_000 }, async () => {
    const ok = await run(verify, { restore_point: pointId, pgbackrest: credentials, checks: { tables: ['ledger'] } });
    expect(ok.outputs).toMatchObject({ status: 'verified' });
    // A second full backup, so the first is not the only one; prune keeps one per service.
    const second = await run(pgbackrestBackupImpl, { service: 'orders-pg', ...cluster.backupWith('cipher') }, { run_id: 'backup-2' });
    // Prune always keeps the newest verified point.
    expect((await run(verify, { restore_point: second.outputs.restore_point_id, pgbackrest: credentials })).outputs).toMatchObject({ status: 'verified' });
    const pruned = await run(prune, { service: 'orders-pg', keep_last: 1, pgbackrest: credentials });
    expect(pruned.outputs).toMatchObject({ deleted: [pointId] });
    const labels = readdirSync(join(cluster.repoPath, 'backup', cluster.stanza)).filter((f) => /^\d{8}-\d{6}F$/.test(f));
    expect(labels).toEqual([second.outputs.label]);
  });
});
