// Windows of point-in-time points: catalog.resolve's restorable_to, `rebound restore-points windows`, and `check --max-age` measuring the newest archived WAL, on a real pgBackRest repository.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { pgbackrestBackupImpl } from '../../activities/pgbackrest/backup.ts';
import { startArchivingCluster, type ArchivingCluster } from '../../stack/pgbackrest.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { rebound } from '../helpers/cli.ts';

let cluster: ArchivingCluster;
const root = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-windows-'));
const storage = `file://${join(root, 'store')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = await startArchivingCluster();
  process.env.PGBR_CIPHER = cluster.cipherPass;
}, 600_000);

afterAll(async () => {
  await cluster?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const { run } = stepRunner({ runbook: 'pitr', step: 'backup', with: () => ({ storage: { url: storage } }), secrets: { cipher: { env: 'PGBR_CIPHER' } } });
const resolve = IMPLEMENTATIONS.find((i) => i.spec.name === 'catalog.resolve')!;
// No catalog: storage is listed. pgBackRest reads the passphrase from its own variable.
const cli = (args: string[], cipher = cluster.cipherPass) =>
  rebound(['restore-points', ...args, '--storage', storage], { REBOUND_CATALOG_URL: '', PGBACKREST_REPO1_CIPHER_PASS: cipher });

/** The newest archived WAL file's time in the repository, read from the file system (seconds, as pgBackRest lists them). */
function newestArchived(): number {
  const walk = (dir: string): number[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : /^[0-9A-F]{24}/.test(e.name) ? [statSync(join(dir, e.name)).mtimeMs] : [],
    );
  return Math.floor(Math.max(...walk(join(cluster.repoPath, 'archive', cluster.stanza))) / 1000) * 1000;
}

describe('recoverable windows of pgBackRest points', () => {
  const ids: string[] = [];
  const stops: string[] = [];

  it('catalog.resolve restorable_to picks the newest point whose backup ended by then', { timeout: 300_000 }, async () => {
    for (const type of ['full', 'incr']) {
      // The second backup must end in a later second than the first: pgBackRest's times are whole seconds.
      if (stops.length) while (Date.now() < Date.parse(stops[0]!) + 1_100) await sleep(100);
      const point = await run(pgbackrestBackupImpl, { service: 'orders-pg', type, ...cluster.backupWith('cipher') }, { run_id: `backup-${type}` });
      ids.push(point.outputs.restore_point_id as string);
      const { restorable_from } = (await run(resolve, { restore_point: point.outputs.restore_point_id })).outputs;
      stops.push(restorable_from as string);
    }
    const at = (t: string) => run(resolve, { restore_point: { service: 'orders-pg', latest: 'any', restorable_to: t } });
    expect((await at(stops[0]!)).outputs).toMatchObject({ restore_point_id: ids[0], kind: 'pgbackrest', restorable_from: stops[0] });
    expect((await at(new Date(Date.parse(stops[1]!) - 1).toISOString())).outputs.restore_point_id).toBe(ids[0]);
    const newest = (await at(new Date(Date.now() + 3_600_000).toISOString())).outputs;
    expect(newest).toMatchObject({ restore_point_id: ids[1], window: { from: stops[0] } });
    const before = new Date(Date.parse(stops[0]!) - 1).toISOString();
    const none = await failureOf(at(before));
    expect(none).toMatchObject({ type: 'not_found', nonRetryable: true });
    expect(none.message).toContain(`restorable to ${before}`);
  });

  it('`restore-points windows` lists each point with its recorded window and the window the repository holds now', { timeout: 120_000 }, async () => {
    const out = await cli(['windows', '--service', 'orders-pg', '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const listed = JSON.parse(out.stdout) as {
      points: Array<{ id: string; restorable_from: string }>;
      now: Array<{ stanza: string; window: { from: string; to: string } }>;
    };
    expect(listed.points.map((p) => p.id)).toEqual([ids[1], ids[0]]);
    expect(listed.now).toHaveLength(1);
    expect(listed.now[0]).toMatchObject({ stanza: cluster.stanza, window: { from: stops[0] } });
    expect(Date.parse(listed.now[0]!.window.to)).toBeGreaterThanOrEqual(Date.parse(stops[1]!));
    const table = await cli(['windows', '--service', 'orders-pg']);
    expect(table.stdout).toMatch(new RegExp(`stanza ${cluster.stanza} now: ${stops[0]!.replace(/\./g, '\\.')} … `));
  });

  it(
    '`check --max-age` measures the newest archived WAL, and fails on it, or on a repository it cannot read, without the passphrase',
    { timeout: 120_000 },
    async () => {
      await cluster.pg.stop(); // nothing is archived from here on
      const newest = newestArchived();
      const t0 = Date.now();
      const ok = await cli(['check', '--service', 'orders-pg', '--max-age', '1000d', '--json']);
      const t1 = Date.now();
      expect(ok.code).toBe(0);
      const [verdict] = (JSON.parse(ok.stdout) as { services: Array<{ ok: boolean; measured: string; age_ms: number; point: string }> }).services;
      expect(verdict).toMatchObject({ ok: true, measured: 'archived_wal', point: ids[1] });
      expect(verdict!.age_ms).toBeGreaterThanOrEqual(t0 - newest);
      expect(verdict!.age_ms).toBeLessThanOrEqual(t1 - newest);

      while (Date.now() - newest < 3_000) await sleep(100);
      const stale = await cli(['check', '--service', 'orders-pg', '--max-age', '2s']);
      expect(stale.code).toBe(1);
      expect(stale.stdout).toMatch(/orders-pg\s+FAIL\s+\d+s\s+wal/);
      expect(stale.stderr).toContain('newest archived WAL is');

      const locked = await cli(['check', '--service', 'orders-pg', '--max-age', '1000d'], 'a-wrong-passphrase-1234');
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain(`cannot read its repository: pgBackRest info of stanza ${cluster.stanza}`);
      expect(locked.stderr).toContain('cipher passphrase is wrong');
      expect(locked.stdout + locked.stderr).not.toContain('a-wrong-passphrase-1234');
      await cluster.pg.start();
    },
  );
});
