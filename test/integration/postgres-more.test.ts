// postgres.dump selection, postgres.restore clean and corrupt points, postgres.check/backup.verify verdicts, and auth failures, on real servers.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { fingerprint, seedOrders } from '../helpers/backends.ts';
import { activityFailures } from '../helpers/failures.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let pg: PostgresServer;
let worker: WorkerProcess;
let client: Client;
const site = uniqueSite('pgmore');
const root = mkdtempSync(join(tmpdir(), 'rebound-pgmore-'));
const storage = `{url: "file://${root}"}`;

const head = (name: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:
  secrets:
    orders: {env: ORDERS_PG}
    shop: {env: SHOP_PG}
    server: {env: SERVER_PG}
    wrong: {env: WRONG_PG}
  steps:
`;

/** User tables of a database, as schema.table, sorted. */
const tables = async (database: string) =>
  (
    await pg.query<{ t: string }>(
      "select table_schema || '.' || table_name as t from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') order by 1",
      [],
      database,
    )
  ).map((r) => r.t);

const unique = (name: string) => `${name}_${randomBytes(3).toString('hex')}`;

async function dumpOrders(options = ''): Promise<string> {
  const status = await runToEnd(
    client,
    planOf(`${head('dump')}    - {id: dump, uses: postgres.dump, with: {source: "\${{ secrets.orders }}", service: more-pg, storage: ${storage}${options}}}\n`),
    site,
  );
  expect(status.state).toBe('succeeded');
  return String(stepOf(status, 'dump').outputs!.restore_point_id);
}

beforeAll(async () => {
  pg = await startPostgres();
  await seedOrders(pg, 'orders');
  await pg.query('create database shop');
  await pg.query(
    `create schema archive;
     create table public.items (id int primary key, name text);
     create table public.logs (id int, line text);
     create table public.audit (id int, what text);
     create table archive.old_orders (id int, total numeric);
     insert into public.items select g, 'item ' || g from generate_series(1, 10) g;
     insert into public.logs select g, 'line ' || g from generate_series(1, 20) g;
     insert into public.audit select g, 'audit ' || g from generate_series(1, 30) g;
     insert into archive.old_orders select g, g * 1.5 from generate_series(1, 40) g;`,
    [],
    'shop',
  );
  const wrong = new URL(pg.url('postgres'));
  wrong.password = randomBytes(12).toString('hex');
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { ORDERS_PG: pg.url('orders'), SHOP_PG: pg.url('shop'), SERVER_PG: pg.url('postgres'), WRONG_PG: wrong.toString() },
  });
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  await worker?.kill();
  await pg?.destroy();
});

describe('postgres.dump selection', () => {
  it('schemas, tables and exclude_tables decide which tables a restore holds', async () => {
    const [bySchema, byTable, excluding] = [unique('by_schema'), unique('by_table'), unique('excluding')];
    const restore = (id: string, dump: string, db: string) =>
      `    - {id: ${id}, needs: [${dump}], uses: postgres.restore, with: {restore_point: "\${{ steps.${dump}.outputs.restore_point_id }}", target: "\${{ secrets.server }}", database: ${db}, create_database: true, storage: ${storage}}}\n`;
    const dump = (id: string, selection: string) =>
      `    - {id: ${id}, needs: [], uses: postgres.dump, with: {source: "\${{ secrets.shop }}", service: shop-pg, storage: ${storage}, ${selection}}}\n`;
    const status = await runToEnd(
      client,
      planOf(
        `${head('selection')}${dump('d-schema', 'schemas: [archive]')}${dump('d-table', 'tables: [public.items, public.logs]')}${dump('d-exclude', 'exclude_tables: [public.audit]')}` +
          `${restore('r-schema', 'd-schema', bySchema)}${restore('r-table', 'd-table', byTable)}${restore('r-exclude', 'd-exclude', excluding)}`,
      ),
      site,
    );
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    expect(await tables('shop')).toEqual(['archive.old_orders', 'public.audit', 'public.items', 'public.logs']);
    expect(await tables(bySchema)).toEqual(['archive.old_orders']);
    expect(await tables(byTable)).toEqual(['public.items', 'public.logs']);
    expect(await tables(excluding)).toEqual(['archive.old_orders', 'public.items', 'public.logs']);
    // The selected tables came with their rows, not only their definitions.
    const [counts] = await pg.query(
      'select (select count(*) from archive.old_orders)::int as old_orders, (select count(*) from public.items)::int as items, (select count(*) from public.logs)::int as logs',
      [],
      excluding,
    );
    expect(counts).toEqual({ old_orders: 40, items: 10, logs: 20 });
  });
});

describe('postgres.restore', () => {
  it('clean: true restores over an existing database that a plain restore refuses', async () => {
    const id = await dumpOrders();
    const target = unique('clean_target');
    const restore = (clean: boolean, create: boolean) =>
      planOf(
        `${head('restore')}    - {id: restore, uses: postgres.restore, retry: {max_attempts: 1}, with: {restore_point: "${id}", target: "\${{ secrets.server }}", database: ${target}, create_database: ${create}, clean: ${clean}, storage: ${storage}}}\n`,
      );
    expect((await runToEnd(client, restore(false, true), site)).state).toBe('succeeded');
    // The target drifts from the point: rows gone, a row the point does not have.
    await pg.query("delete from orders where id > 100; insert into customers values (99999, 'stray')", [], target);
    expect(await fingerprint(pg, target)).not.toEqual(await fingerprint(pg, 'orders'));

    const plain = await runToEnd(client, restore(false, false), site);
    expect(plain.state).toBe('failed');
    expect(stepOf(plain, 'restore').reason).toContain('already exists');

    const clean = await runToEnd(client, restore(true, false), site);
    expect(clean.error).toBeUndefined();
    expect(clean.state).toBe('succeeded');
    expect(await fingerprint(pg, target)).toEqual(await fingerprint(pg, 'orders'));
  });

  it('an object that no longer matches its sha256 is refused without retries, and the target is left as it was', async () => {
    // Uncompressed, so one changed character of a row is still a valid archive: only the hash can tell.
    const id = await dumpOrders(', compress: 0');
    const object = join(root, 'more-pg', 'postgres', id, 'data.pgdump');
    const data = readFileSync(object);
    const note = Buffer.from('2500\t'); // a row of orders in COPY text: "2500\t<customer>\t<amount>\t<md5>"
    const at = data.indexOf(note);
    expect(at).toBeGreaterThan(0);
    data[at] = '3'.charCodeAt(0);
    expect(data.indexOf(note)).toBe(-1);
    writeFileSync(object, data);

    const target = unique('untouched');
    await pg.query(`create database ${target}`);
    await pg.query('create table sentinel (x int); insert into sentinel values (1), (2), (3)', [], target);
    const handle = await start(
      client,
      planOf(
        `${head('restore-corrupt')}    - {id: restore, uses: postgres.restore, retry: {initial_interval: 1s}, with: {restore_point: "${id}", target: "\${{ secrets.server }}", database: ${target}, storage: ${storage}}}\n`,
      ),
      site,
    );
    const status = await finalStatus(handle);
    expect(status.state).toBe('failed');
    const step = stepOf(status, 'restore');
    expect(step.attempt).toBe(1);
    expect(step.reason).toContain(`restore point ${id}`);
    expect(step.reason).toContain('not retryable');
    expect(activityFailures(await handle.fetchHistory())).toEqual([expect.objectContaining({ type: 'verification_failed', nonRetryable: true })]);
    expect(await tables(target)).toEqual(['public.sentinel']);
    expect(await pg.query('select count(*)::int as n from sentinel', [], target)).toEqual([{ n: 3 }]);
  });
});

describe('declared checks', () => {
  it('postgres.check passes on rows that are there and fails on a min_rows that cannot be met', async () => {
    const status = await runToEnd(
      client,
      planOf(`${head('check')}    - {id: enough, uses: postgres.check, with: {target: "\${{ secrets.orders }}", checks: {tables: [orders, customers], min_rows: {orders: 5000}}}}
    - {id: short, uses: postgres.check, retry: {max_attempts: 1}, with: {target: "\${{ secrets.orders }}", checks: {min_rows: {orders: 5001}}}}
`),
      site,
    );
    expect(status.state).toBe('failed');
    expect(stepOf(status, 'enough').status).toBe('succeeded');
    expect((stepOf(status, 'enough').outputs!.checks as { ok: boolean }[]).every((c) => c.ok)).toBe(true);
    expect(stepOf(status, 'short').status).toBe('failed');
    expect(stepOf(status, 'short').reason).toContain('rows in orders ≥ 5001: 5000 rows');
  });

  it('backup.verify fails a point whose restore does not meet a declared min_rows, and records the verdict', async () => {
    const id = await dumpOrders();
    const status = await runToEnd(
      client,
      planOf(
        `${head('verify')}    - {id: verify, uses: backup.verify, with: {restore_point: "${id}", scratch: "\${{ secrets.server }}", storage: ${storage}, checks: {min_rows: {orders: 5001}}}}\n`,
      ),
      site,
    );
    expect(status.state).toBe('failed');
    const step = stepOf(status, 'verify');
    expect(step.attempt).toBe(1);
    expect(step.reason).toContain('failed verification');
    expect(step.reason).toContain('rows in orders ≥ 5001: 5000 rows');
    expect(step.reason).toContain('not retryable');
    const verification = JSON.parse(readFileSync(join(root, 'more-pg', 'postgres', id, 'verification.json'), 'utf8'));
    expect(verification.status).toBe('failed');
    // The restore itself passed: it is the declared check that failed the point.
    expect(verification.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ check: 'restore', ok: true }), expect.objectContaining({ check: 'rows in orders ≥ 5001', ok: false })]),
    );
    expect(await pg.query("select datname from pg_database where datname like 'rebound_verify_%'")).toEqual([]);
  });
});

describe('authentication failures', () => {
  it('a wrong password is not retried, by the client (dump) or by pg_restore: one attempt, and the error says so', async () => {
    const id = await dumpOrders();
    const target = unique('auth_target');
    await pg.query(`create database ${target}`);
    // Default retry policy (3 attempts): a retryable failure would show attempt 3.
    const status = await runToEnd(
      client,
      planOf(`${head('auth')}    - {id: dump, needs: [], continue_on_error: true, uses: postgres.dump, with: {source: "\${{ secrets.wrong }}", service: auth-pg, storage: ${storage}}}
    - {id: restore, needs: [], continue_on_error: true, uses: postgres.restore, with: {restore_point: "${id}", target: "\${{ secrets.wrong }}", database: ${target}, storage: ${storage}}}
`),
      site,
    );
    for (const name of ['dump', 'restore']) {
      const step = stepOf(status, name);
      expect(step.status, name).toBe('failed');
      expect(step.attempt, name).toBe(1);
      expect(step.reason, name).toContain('password authentication failed');
      expect(step.reason, name).toContain('not retryable (attempt 1)');
    }
    expect(stepOf(status, 'restore').reason).toContain('pg_restore');
    expect(existsSync(join(root, 'auth-pg'))).toBe(false);
    expect(await tables(target)).toEqual([]);
  });
});
