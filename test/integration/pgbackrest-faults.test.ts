// A worker SIGKILLed while pgbackrest.backup or a scratch pgbackrest.restore runs, through `rebound worker` processes on the real Temporal server: each is held unfinished by construction (archiving broken, a check that waits for the test), and the retry records one backup set, or stops the orphaned scratch server and completes one restore.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { startArchivingCluster, type ArchivingCluster } from '../../stack/pgbackrest.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { alive } from '../helpers/processes.ts';
import { ledger } from '../helpers/ledger.ts';
import { procStrings, waitForChild } from '../helpers/tool-processes.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let cluster: ArchivingCluster;
let client: Client;
const workers: WorkerProcess[] = [];
const root = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-faults-'));

beforeAll(async () => {
  cluster = await startArchivingCluster();
  client = await connect(inject('temporalAddress'));
}, 600_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await cluster?.destroy();
  rmSync(root, { recursive: true, force: true });
});

function worker(site: string): Promise<WorkerProcess> {
  return startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { PGBR_CIPHER: cluster.cipherPass },
  }).then((w) => {
    workers.push(w);
    return w;
  });
}

/** A one-step runbook of pgbackrest.<id> that retries soon after its worker is gone (heartbeat timeout 10 s). */
const oneStep = (id: 'backup' | 'restore', attempts: number, withLines: string[]) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: pitr-${id}}\nspec:
  secrets: {cipher: {env: PGBR_CIPHER}}
  steps:
    - id: ${id}
      uses: pgbackrest.${id}
      heartbeat_timeout: 10s
      retry: {max_attempts: ${attempts}, initial_interval: 1s, backoff: 1}
      with:
${[...withLines, `storage: {url: "file://${root}"}`].map((l) => `        ${l}`).join('\n')}
`);

const backupPlan = (type: string) => {
  const c = cluster.backupWith('cipher') as { cluster: Record<string, unknown> };
  return oneStep('backup', 20, [
    'service: orders-pg',
    `stanza: ${cluster.stanza}`,
    `type: ${type}`,
    `repository: {path: "${cluster.repoPath}", cipher_pass: "\${{ secrets.cipher }}"}`,
    `cluster: ${JSON.stringify(c.cluster)}`,
  ]);
};

/** The backup sets pgBackRest lists for the stanza, with their annotations. */
function sets(): Array<{ label: string; annotation?: Record<string, string> }> {
  const args = [
    `--stanza=${cluster.stanza}`,
    `--repo1-path=${cluster.repoPath}`,
    '--repo1-cipher-type=aes-256-cbc',
    '--log-level-file=off',
    '--output=json',
    'info',
  ];
  // As the repository's owner: nothing of root's may land where the cluster's pgBackRest writes.
  const info = spawnSync('pgbackrest', args, {
    encoding: 'utf8',
    uid: statSync(cluster.repoPath).uid,
    gid: statSync(cluster.repoPath).gid,
    env: { ...process.env, PGBACKREST_REPO1_CIPHER_PASS: cluster.cipherPass },
  });
  return (JSON.parse(info.stdout) as Array<{ backup: Array<{ label: string; annotation?: Record<string, string> }> }>)[0]!.backup;
}

describe('a worker killed during pgbackrest.backup', () => {
  it(
    'SIGKILLed while its backup waits for WAL that cannot be archived: the orphaned backup finishes, the retry adopts it, one set',
    { timeout: 600_000 },
    async () => {
      const site = uniqueSite('pgbrcrash');
      await worker(site);
      // A first backup creates and checks the stanza (which needs working archiving).
      expect((await finalStatus(await start(client, backupPlan('full'), site))).state).toBe('succeeded');
      expect(sets()).toHaveLength(1);

      // Archiving broken: pgBackRest takes the backup, then waits for its last WAL segment in the repository.
      // (The command must still name pgbackrest, or the backup refuses to start.)
      await cluster.pg.query("alter system set archive_command = '/bin/false pgbackrest'");
      await cluster.pg.query('select pg_reload_conf()');
      const first = workers.at(-1)!;
      let handle: Awaited<ReturnType<typeof start>>;
      try {
        handle = await start(client, backupPlan('incr'), site);
        // The backup itself, not the info and stanza checks that run and exit before it.
        const tool = await waitForChild(first.child.pid!, 'pgbackrest', 120_000, (argv) => argv.includes('backup'));
        // The passphrase reaches pgBackRest through its environment only: argv is anyone's to read through ps.
        expect(procStrings(tool, 'cmdline').join(' ')).not.toContain(cluster.cipherPass);
        expect(procStrings(tool, 'environ')).toContain(`PGBACKREST_REPO1_CIPHER_PASS=${cluster.cipherPass}`);
        // Its WAL cannot reach the repository: the set cannot be complete while archiving stays broken.
        const failures = async () => Number((await cluster.pg.query<{ n: string }>('select failed_count as n from pg_stat_archiver'))[0]!.n);
        await expect.poll(failures, { timeout: 60_000, interval: 200 }).toBeGreaterThan(0);
        expect(sets()).toHaveLength(1);
        await first.kill('SIGKILL');
        // Orphaned, its pgbackrest still waits: what the retry must not duplicate.
        expect(alive(tool)).toBe(true);
      } finally {
        // Whatever failed above, the next test needs archiving back.
        await cluster.pg.query('alter system reset archive_command');
        await cluster.pg.query('select pg_reload_conf()');
      }

      await worker(site);
      const status = await finalStatus(handle);
      expect(status.state).toBe('succeeded');
      expect(stepOf(status, 'backup').attempt).toBeGreaterThanOrEqual(2);
      const pointId = stepOf(status, 'backup').outputs!.restore_point_id as string;
      const all = sets();
      expect(all).toHaveLength(2);
      expect(all.filter((s) => s.annotation?.['rebound-point'] === pointId)).toHaveLength(1);
      const point = await openRestorePoints({ url: `file://${root}`, region: 'us-east-1', force_path_style: true }).find(pointId);
      expect(point.external![0]).toMatchObject({ label: all[1]!.label, type: 'incr' });
    },
  );

  it(
    'SIGKILLed while its scratch restore runs checks: the retry stops the orphaned scratch server, removes its folder and completes one restore',
    { timeout: 600_000 },
    async () => {
      // The restored cluster carries a function the check calls: it returns only once the test has written `go`.
      const go = join(cluster.dir, 'go');
      await cluster.pg.query(
        `create or replace function wait_for_go(path text) returns int language plpgsql as $$
         begin while pg_stat_file(path, true) is null loop perform pg_sleep(0.1); end loop; return 1; end $$`,
      );
      await ledger(() => cluster.pg).archived();
      const [point] = await openRestorePoints({ url: `file://${root}`, region: 'us-east-1', force_path_style: true }).list({ service: 'orders-pg', limit: 1 });
      const site = uniqueSite('pgbrrestore');
      const first = await worker(site);
      const handle = await start(client, restorePlan(point!.id, go), site);
      const orphan = await waitForChild(first.child.pid!, 'postgres', 300_000, (argv) => argv.some((a) => a.includes('rebound-pgbackrest-')));
      const folder = dirname(procStrings(orphan, 'cmdline')[procStrings(orphan, 'cmdline').indexOf('-D') + 1]!);
      await first.kill('SIGKILL');
      expect(alive(orphan)).toBe(true); // nothing stopped it: what the retry must clean up
      writeFileSync(go, '');

      await worker(site);
      const status = await finalStatus(handle);
      expect(status.state, status.error).toBe('succeeded');
      expect(stepOf(status, 'restore').attempt).toBeGreaterThanOrEqual(2);
      expect((stepOf(status, 'restore').outputs!.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
      expect(alive(orphan)).toBe(false);
      expect(existsSync(folder)).toBe(false);
    },
  );
});

function restorePlan(pointId: string, go: string) {
  return oneStep('restore', 5, [
    `restore_point: ${pointId}`,
    'target: latest',
    `checks: {sql: [{query: "select wait_for_go('${go}')", min_rows: 1}]}`,
    'pgbackrest: {cipher_pass: "${{ secrets.cipher }}"}',
  ]);
}
