// `rebound demo backup`: nightly backup of PostgreSQL and FerretDB into a file store, then restore drills with RTO/RPO, on a throwaway stack.
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { rmSync } from 'node:fs';
import { seedInventory, seedOrders } from '../stack/demo-data.ts';
import { startPostgres } from '../stack/postgres.ts';
import { startFerretDb } from '../stack/ferretdb.ts';
import { seedShop } from '../stack/mongo-demo-data.ts';
import { DATA } from '../stack/tools.ts';
import { connectClient } from '../client/connection.ts';
import { runCommand } from './commands.ts';
import { loadPlan } from './load.ts';
import { startStack } from '../stack/embedded.ts';
import { StackOwner } from '../stack/owner.ts';
import { untilInterrupted } from './keep.ts';

const runbook = (name: string) => relative(process.cwd(), fileURLToPath(new URL(`../runbooks/${name}`, import.meta.url)));

/**
 * `rebound demo backup`: a throwaway PostgreSQL cluster with two databases and FerretDB
 * (MongoDB's wire protocol) over it with a `shop` database, the nightly backup runbook
 * (dump all three in parallel → verify → prune) into a file store, then the restore
 * runbook as a drill of each kind into scratch names, with its RTO/RPO report.
 */
export async function demoBackupCommand(options: { keep?: boolean }): Promise<void> {
  const nightly = loadPlan(runbook('nightly-backup.yaml'), 'run');
  const restore = loadPlan(runbook('restore.yaml'), 'drill');
  const storage = join(DATA, 'demo-storage');
  rmSync(storage, { recursive: true, force: true });
  console.log('starting a throwaway PostgreSQL cluster with databases orders and inventory…');
  const owner = new StackOwner();
  const pg = await startPostgres({ log: (line) => console.log(line) });
  owner.own('PostgreSQL', () => pg.destroy());
  await seedOrders(pg, 'orders');
  await seedInventory(pg, 'inventory');
  await pg.query('create database rebound_catalog');
  console.log('starting FerretDB (MongoDB wire protocol) on it with database shop…');
  const ferret = await startFerretDb({ pg, log: (line) => console.log(line) }).catch(async (error) => {
    await owner.stopAll();
    throw error;
  });
  owner.own('FerretDB', () => ferret.destroy(), ferret.pid);
  await seedShop(ferret.url());
  // The worker in this process reads its secrets and catalog from its environment.
  Object.assign(process.env, {
    ORDERS_PG_URL: pg.url('orders'),
    INVENTORY_PG_URL: pg.url('inventory'),
    SCRATCH_PG_URL: pg.url('postgres'),
    RESTORE_TARGET_PG_URL: pg.url('postgres'),
    ORDERS_MONGO_URL: ferret.url(),
    SCRATCH_MONGO_URL: ferret.url(),
    RESTORE_TARGET_MONGO_URL: ferret.url(),
    REBOUND_CATALOG_URL: pg.url('rebound_catalog'),
  });
  const stack = await startStack(owner, { log: (line) => console.log(line) }).catch(async (error) => {
    await owner.stopAll();
    throw error;
  });
  try {
    console.log(`Temporal ${stack.server.address}, Web UI ${stack.server.uiUrl}\n\n== nightly backup ==`);
    // The embedded demo has the databases only: the cluster, cache, etcd, broker, search and EBS steps are skipped.
    const without = ['k8s_namespace=', ...['redis', 'etcd', 'rabbitmq', 'search', 'volumes'].map((s) => `with_${s}=false`)];
    await runCommand(connectClient, nightly, { param: [`storage_url=file://${storage}`, ...without] });
    console.log('\n== restore drill: PostgreSQL ==');
    await runCommand(connectClient, restore, { param: [`storage_url=file://${storage}`] });
    console.log('\n== restore drill: MongoDB ==');
    await runCommand(connectClient, restore, {
      param: [`storage_url=file://${storage}`, 'service=orders-mongo', 'database=shop', 'drill_database=shop_drill'],
    });
    console.log(`\nrestore points are in ${storage}; Web UI: ${stack.server.uiUrl}`);
    if (options.keep) await untilInterrupted(owner);
  } finally {
    await owner.stopAll();
  }
}
