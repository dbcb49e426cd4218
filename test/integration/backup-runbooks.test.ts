// The example backup runbooks end to end: nightly-backup.yaml (every service of the platform, one set), restore.yaml drilling either database kind, restore-set.yaml drilling a whole set by time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { scanPoints } from '../../activities/restore-points/manifest.ts';
import { openStore } from '../../activities/restore-points/object-store.ts';
import { buildReport } from '../../client/report/build.ts';
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
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { startTogether } from '../helpers/servers.ts';

let ferret: FerretDbServer;
let cluster: KubernetesCluster;
let platform: Platform;
let worker: WorkerProcess;
let client: Client;
let mongo: MongoClient;
/** The inventory database's one table, as a count and a checksum. */
const items = (database: string) =>
  ferret.pg.query("select count(*)::int as n, md5(string_agg(sku || ':' || stock, ',' order by sku)) from items", [], database);
/** When the first night's backup had finished: restore-set.yaml is asked for everything as of then. */
let firstNightEnded: string | undefined;
const site = uniqueSite('examples');
const nightlyParams = () => ({ storage_url: storage, ...platform.params });
const storage = `file://${mkdtempSync(join(tmpdir(), 'rebound-examples-'))}`;

beforeAll(async () => {
  // One PostgreSQL cluster holds the databases, the catalog and FerretDB's data.
  [ferret, cluster, platform] = await startTogether(startFerretDb(), startKubernetes(), startPlatform());
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
      ...platform.env,
    },
  });
  client = await connect(inject('temporalAddress'));
}, 1_800_000); // the first run builds the Kubernetes control plane (≈ 10 min)

afterAll(async () => {
  await mongo?.close();
  await worker?.kill();
  await ferret?.destroy();
  await cluster?.stop();
  await platform?.stop();
});

describe('the example backup runbooks', () => {
  it('nightly-backup.yaml makes one set of every service, each point verified where it can be; restore.yaml drills a restore of each database kind', async () => {
    const backup = await runToEnd(client, compileFile('runbooks/nightly-backup.yaml', 'run').plan!, site, nightlyParams());
    expect(backup.error).toBeUndefined();
    firstNightEnded = new Date().toISOString();
    const points = await scanPoints(openStore({ url: storage, region: 'us-east-1', force_path_style: true }));
    expect(points.map((p) => [p.service, p.kind, p.status]).sort()).toEqual([
      ['config-etcd', 'etcd', 'verified'],
      ['inventory-pg', 'postgres', 'verified'],
      ['orders-cache', 'redis', 'verified'],
      ['orders-k8s', 'k8s-namespace', 'verified'],
      ['orders-mongo', 'mongodb', 'verified'],
      ['orders-mq', 'rabbitmq', 'verified'],
      ['orders-pg', 'postgres', 'verified'],
      ['orders-search', 'search', 'verified'],
      ['orders-volumes', 'ebs-volume', 'verified'],
    ]);
    expect(points.find((p) => p.service === 'orders-volumes')!.external).toHaveLength(2);
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
  it('restore-set.yaml drills everything as of a time: every service from the same, older set, into scratch names', { timeout: 900_000 }, async () => {
    expect(firstNightEnded, 'the nightly backup above ran').toBeDefined();
    const night1 = {
      orders: await pgFingerprint(ferret.pg, 'orders'),
      inventory: await items('inventory'),
      shop: await fingerprint(mongo, 'shop'),
    };
    // The day's changes, then a second night: a newer set that "as of" the first night must not use.
    await ferret.pg.query("insert into orders select 900000 + g, 1, 1.00, 'day 2' from generate_series(1, 25) g", [], 'orders');
    await mongo
      .db('shop')
      .collection<{ _id: number; customer_id: number; amount: number; placed_at: Date }>('orders')
      .insertOne({ _id: 900_000, customer_id: 1, amount: 1, placed_at: new Date() });
    apply(cluster, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'orders' }, data: { mode: 'day-2' } }));
    const night2 = await runToEnd(client, compileFile('runbooks/nightly-backup.yaml', 'run').plan!, site, nightlyParams());
    expect(night2.error).toBeUndefined();
    expect(await pgFingerprint(ferret.pg, 'orders')).not.toEqual(night1.orders);

    const plan = compileFile('runbooks/restore-set.yaml', 'drill').plan!;
    const drill = await runToEnd(client, plan, site, {
      storage_url: storage,
      before: firstNightEnded!,
      drill_suffix: '_asof',
      drill_namespace: 'orders-asof',
      ...platform.restoreParams,
    });
    expect(drill.error).toBeUndefined();
    const set = drill.steps.find((s) => s.id === 'set')!.outputs as { services: string[]; points: Record<string, { restore_point_id: string }> };
    const services = ['config-etcd', 'inventory-pg', 'orders-cache', 'orders-k8s', 'orders-mongo', 'orders-mq', 'orders-pg', 'orders-search', 'orders-volumes'];
    expect(set.services).toEqual(services);
    expect(set.points['orders-pg']!.restore_point_id).not.toBe(night2.steps.find((s) => s.id === 'dump-orders')!.outputs!.restore_point_id);
    expect(drill.steps.filter((s) => s.status !== 'succeeded').map((s) => s.id)).toEqual([]);
    expect(await pgFingerprint(ferret.pg, 'orders_asof')).toEqual(night1.orders);
    expect(await items('inventory_asof')).toEqual(night1.inventory);
    expect(await fingerprint(mongo, 'shop_asof')).toEqual(night1.shop);
    const settings = JSON.parse(cluster.kubectl(['get', 'configmap', 'settings', '-n', 'orders-asof', '-o', 'json']));
    expect(settings.data).toEqual({ mode: 'primary' });
    const out = (id: string) => drill.steps.find((s) => s.id === id)!.outputs as Record<string, unknown>;
    expect(out('restore-orders-cache')).toMatchObject({ mode: 'scratch', keys: 50, path: null });
    expect(out('restore-config-etcd')).toMatchObject({ mode: 'scratch', keys: 20, data_dir: null });
    expect(await platform.rabbitmq.api('GET', '/api/bindings/orders_asof')).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'orders', destination: 'orders.created', routing_key: 'order.created' })]),
    );
    expect(out('restore-orders-search')).toMatchObject({ indices: [expect.objectContaining({ index: 'drill-orders-2026', documents: 30 })] });
    expect(out('restore-orders-volumes')).toMatchObject({ region: 'us-west-2', volumes: [expect.objectContaining({ attached: null }), expect.anything()] });
    // Production was not touched by the drill.
    expect(
      await mongo.db('shop').collection<{ _id: number; customer_id: number; amount: number; placed_at: Date }>('orders').countDocuments({ _id: 900_000 }),
    ).toBe(1);

    const report = buildReport({ workflowId: 'restore-set-drill', plan, status: drill });
    expect(report.rpo.services.map((s) => s.service)).toEqual([...services, 'replica (check-media-replica)']);
    // The replica lacks the newest object: its lag is that object's age, at most the drill's length.
    const replica = report.rpo.services.at(-1)!;
    expect(replica.age_ms).toBeGreaterThan(0);
    expect(out('check-media-replica')).toMatchObject({ missing: 1, oldest_unreplicated: '4.png' });
    // Every point is from the first night: older, when restored, than the time from that night's end to the drill's start.
    const atLeast = Date.parse(drill.started_at) - Date.parse(firstNightEnded!);
    for (const s of report.rpo.services) expect(s.age_ms, s.service).toBeGreaterThan(atLeast);
  });
});
