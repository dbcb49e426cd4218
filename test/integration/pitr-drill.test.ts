// runbooks/pg-pitr-drill.yaml end to end on a `rebound worker` and the real Temporal server: a pgBackRest point resolved by the time asked for, its stanza restored to that time into scratch and checked, the report's RPO the PITR gap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { buildReport } from '../../client/report/build.ts';
import { compileFile } from '../../compiler/index.ts';
import { seedOrders } from '../../stack/demo-data.ts';
import { startArchivingCluster, type ArchivingCluster } from '../../stack/pgbackrest.ts';
import { connect, planOf, runToEnd, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let cluster: ArchivingCluster;
let client: Client;
let worker: WorkerProcess;
const site = uniqueSite('pitrdrill');
const root = mkdtempSync(join(tmpdir(), 'rebound-pitr-drill-'));
const storage = `file://${root}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = await startArchivingCluster();
  await seedOrders(cluster.pg, 'orders', 200);
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { PGBACKREST_CIPHER_PASS: cluster.cipherPass },
  });
  client = await connect(inject('temporalAddress'));
}, 600_000);

afterAll(async () => {
  await worker?.kill();
  await cluster?.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** What nightly-backup.yaml's backup-orders-pitr step does, on this cluster. */
function backupPlan() {
  const c = cluster.backupWith('cipher') as { cluster: Record<string, unknown>; repository: { path: string } };
  return planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: pitr-backup}\nspec:
  secrets: {cipher: {env: PGBACKREST_CIPHER_PASS}}
  steps:
    - id: backup
      uses: pgbackrest.backup
      with:
        service: orders-pg-pitr
        stanza: ${cluster.stanza}
        repository: {path: "${c.repository.path}", cipher_pass: "\${{ secrets.cipher }}"}
        cluster: ${JSON.stringify(c.cluster)}
        storage: {url: "${storage}"}
`);
}

const order = (id: number) => cluster.pg.query('insert into orders values ($1, 1, 1.00, $2)', [id, 'after the backup'], 'orders');

async function archivedAll(): Promise<void> {
  const [{ wal }] = (await cluster.pg.query<{ wal: string }>('select pg_walfile_name(pg_current_wal_lsn()) as wal')) as [{ wal: string }];
  await cluster.pg.query('select pg_switch_wal()');
  await expect
    .poll(async () => (await cluster.pg.query<{ last: string }>('select last_archived_wal as last from pg_stat_archiver'))[0]!.last >= wal, { timeout: 60_000 })
    .toBe(true);
}

describe('pg-pitr-drill.yaml', () => {
  it(
    'drills a restore to a time: the point restorable then, restored into scratch and checked, the RPO the PITR gap, not the backup age',
    { timeout: 600_000 },
    async () => {
      const backup = await runToEnd(client, backupPlan(), site);
      expect(backup.state).toBe('succeeded');
      const pointId = stepOf(backup, 'backup').outputs!.restore_point_id;
      await order(900_001);
      await sleep(1_100);
      const [{ t }] = (await cluster.pg.query<{ t: Date }>('select clock_timestamp() as t')) as [{ t: Date }];
      await sleep(1_100);
      await order(900_002);
      await archivedAll();

      const { plan, errors } = compileFile('runbooks/pg-pitr-drill.yaml', 'drill');
      expect(errors).toEqual([]);
      const drill = await runToEnd(client, plan!, site, { time: t.toISOString(), storage_url: storage, database: 'orders' });
      expect(drill.state, drill.error).toBe('succeeded');
      expect(stepOf(drill, 'resolve').outputs).toMatchObject({ restore_point_id: pointId, kind: 'pgbackrest' });
      const restored = stepOf(drill, 'restore').outputs!;
      expect(restored).toMatchObject({ mode: 'scratch', rpo_method: 'PITR gap' });
      expect((restored.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
      expect(Date.parse(restored.reached as string)).toBeLessThan(t.getTime());
      expect(restored.rpo_ms).toBe(t.getTime() - Date.parse(restored.reached as string));
      // The base backup's age is not what a restore to a time loses.
      expect(drill.report!.rpo).toMatchObject({ measured_ms: restored.rpo_ms, objective_ms: 300_000, met: true });
      const report = buildReport({ workflowId: 'pitr-drill', plan: plan!, status: drill });
      expect(report.rpo.services).toEqual([{ service: 'orders-pg-pitr', age_ms: restored.rpo_ms, steps: ['restore'], methods: ['PITR gap'] }]);
      expect(stepOf(drill, 'report').outputs!.message).toContain(`RPO ${restored.rpo_ms} ms (PITR gap)`);

      const latest = await runToEnd(client, plan!, site, { storage_url: storage, database: 'orders' });
      expect(latest.state, latest.error).toBe('succeeded');
      expect(Date.parse(stepOf(latest, 'restore').outputs!.reached as string)).toBeGreaterThan(t.getTime());
    },
  );
});
