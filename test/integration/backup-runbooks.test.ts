// The example backup runbooks end to end: nightly-backup.yaml (PostgreSQL, MongoDB and a Kubernetes namespace, one set), restore.yaml drilling either database kind.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { scanPoints } from '../../activities/restore-points/manifest.ts';
import { openStore } from '../../activities/restore-points/object-store.ts';
import { compileFile } from '../../compiler/index.ts';
import { seedInventory, seedOrders } from '../../stack/demo-data.ts';
import { startFerretDb, type FerretDbServer } from '../../stack/ferretdb.ts';
import { startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { seedShop } from '../../stack/mongo-demo-data.ts';
import { fingerprint as pgFingerprint } from '../helpers/backends.ts';
import { rebound } from '../helpers/cli.ts';
import { apply, deployment, namespace } from '../helpers/kubernetes.ts';
import { fingerprint } from '../helpers/mongo-data.ts';
import { connect, runToEnd, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let ferret: FerretDbServer;
let cluster: KubernetesCluster;
let worker: WorkerProcess;
let client: Client;
let mongo: MongoClient;
const site = uniqueSite('examples');
const storage = `file://${mkdtempSync(join(tmpdir(), 'rebound-examples-'))}`;

beforeAll(async () => {
  // One PostgreSQL cluster holds the databases, the catalog and FerretDB's data.
  [ferret, cluster] = await Promise.all([startFerretDb(), startKubernetes()]);
  namespace(cluster, 'orders');
  apply(cluster, deployment('web', 'orders', 1));
  apply(cluster, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'orders' }, data: { mode: 'primary' } }));
  const pg = ferret.pg;
  await Promise.all([seedOrders(pg, 'orders'), seedInventory(pg, 'inventory'), pg.query('create database rebound_catalog'), seedShop(ferret.url())]);
  mongo = await MongoClient.connect(ferret.url());
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: {
      ORDERS_PG_URL: pg.url('orders'),
      INVENTORY_PG_URL: pg.url('inventory'),
      SCRATCH_PG_URL: pg.url('postgres'),
      RESTORE_TARGET_PG_URL: pg.url('postgres'),
      ORDERS_MONGO_URL: ferret.url(),
      SCRATCH_MONGO_URL: ferret.url(),
      RESTORE_TARGET_MONGO_URL: ferret.url(),
      REBOUND_CATALOG_URL: pg.url('rebound_catalog'),
      KUBECONFIG_CONTENTS: cluster.adminKubeconfig,
    },
  });
  client = await connect(inject('temporalAddress'));
}, 1_800_000); // the first run builds the Kubernetes control plane (≈ 10 min)

afterAll(async () => {
  await mongo?.close();
  await worker?.kill();
  await ferret?.destroy();
  await cluster?.stop();
});

describe('the example backup runbooks', () => {
  it('nightly-backup.yaml makes one set of verified PostgreSQL and MongoDB points and a namespace backup; restore.yaml drills a restore of each database kind', async () => {
    const backup = await runToEnd(client, compileFile('runbooks/nightly-backup.yaml', 'run').plan!, site, { storage_url: storage });
    expect(backup.error).toBeUndefined();
    const points = await scanPoints(openStore({ url: storage, region: 'us-east-1', force_path_style: true }));
    expect(points.map((p) => [p.service, p.kind, p.status]).sort()).toEqual([
      ['inventory-pg', 'postgres', 'verified'],
      ['orders-k8s', 'k8s-namespace', 'unverified'],
      ['orders-mongo', 'mongodb', 'verified'],
      ['orders-pg', 'postgres', 'verified'],
    ]);
    expect(
      points
        .find((p) => p.kind === 'k8s-namespace')!
        .objects!.map((o) => [o.name, o.documents])
        .sort(),
    ).toEqual([
      ['apps/deployments.apps.jsonl.gz', 1],
      ['core/configmaps.jsonl.gz', 1],
      ['core/namespaces.jsonl.gz', 1],
    ]);
    expect(new Set(points.map((p) => p.set_id)).size).toBe(1);
    const sets = await rebound(['restore-points', 'sets', '--storage', storage, '--json'], { REBOUND_CATALOG_URL: ferret.pg.url('rebound_catalog') });
    expect(sets.code).toBe(0);
    expect(JSON.stringify(JSON.parse(sets.stdout))).toContain('orders-mongo');

    const drill = compileFile('runbooks/restore.yaml', 'drill').plan!;
    const pgDrill = await runToEnd(client, drill, site, { storage_url: storage, drill_database: 'orders_drill_example' });
    expect(pgDrill.error).toBeUndefined();
    expect(await pgFingerprint(ferret.pg, 'orders_drill_example')).toEqual(await pgFingerprint(ferret.pg, 'orders'));
    expect(pgDrill.report!.rpo.measured_ms).toBeGreaterThan(0);

    const mongoDrill = await runToEnd(client, drill, site, { storage_url: storage, service: 'orders-mongo', database: 'shop', drill_database: 'shop_drill' });
    expect(mongoDrill.error).toBeUndefined();
    expect(mongoDrill.steps.find((s) => s.id === 'restore-postgres')!.status).toBe('skipped');
    expect(await fingerprint(mongo, 'shop_drill')).toEqual(await fingerprint(mongo, 'shop'));
    expect(mongoDrill.report?.rpo).toMatchObject({ objective_ms: 86_400_000, met: true });
  });
});
