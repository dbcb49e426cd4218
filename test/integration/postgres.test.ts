// postgres.dump/restore round trips, manifests, backup.verify, the catalog and secrets, on real PostgreSQL, MinIO and Temporal (the example runbooks: backup-runbooks.test.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { scanPoints } from '../../activities/restore-points/manifest.ts';
import { openStore } from '../../activities/restore-points/object-store.ts';
import { startBackends, fingerprint, seedOrders } from '../helpers/backends.ts';
import { seedInventory } from '../../stack/demo-data.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { postgresDumpImpl } from '../../activities/postgres/dump.ts';
import { stepRunner } from '../helpers/activity.ts';
import { rebound } from '../helpers/cli.ts';
import { historyText } from '../helpers/history.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { finalStatus } from '../../client/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let backends: Awaited<ReturnType<typeof startBackends>>;
let worker: WorkerProcess;
let client: Client;
const site = uniqueSite('pg');
const fileRoot = mkdtempSync(join(tmpdir(), 'rebound-storage-'));
const fileStorage = `{url: "file://${fileRoot}"}`;
let s3Storage = '';
let env: Record<string, string>;
/** Wrong credentials the worker holds: failures that carry a secret, which must not leak either. */
const wrongPgPassword = randomBytes(12).toString('hex');
const wrongMinioSecret = randomBytes(16).toString('hex');

const head = (name: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:
  secrets:
    orders: {env: ORDERS_PG}
    scratch: {env: SCRATCH_PG}
    minio_key: {env: MINIO_KEY}
    minio_secret: {env: MINIO_SECRET}
    wrong_pg: {env: WRONG_PG}
    wrong_minio_secret: {env: WRONG_MINIO_SECRET}
`;

beforeAll(async () => {
  backends = await startBackends();
  const { pg, minio } = backends;
  await seedOrders(pg, 'orders');
  await seedInventory(pg, 'inventory');
  await pg.query('create database rebound_catalog');
  s3Storage = `{url: "s3://backups/rebound", endpoint: "${minio.endpoint}", access_key: "\${{ secrets.minio_key }}", secret_key: "\${{ secrets.minio_secret }}"}`;
  env = {
    ORDERS_PG: pg.url('orders'),
    SCRATCH_PG: pg.url('postgres'),
    MINIO_KEY: minio.accessKey,
    MINIO_SECRET: minio.secretKey,
    REBOUND_CATALOG_URL: pg.url('rebound_catalog'),
    WRONG_PG: pg.url('orders').replace(`:${pg.password}@`, `:${wrongPgPassword}@`),
    WRONG_MINIO_SECRET: wrongMinioSecret,
    // The example runbooks' secrets.
    ORDERS_PG_URL: pg.url('orders'),
    INVENTORY_PG_URL: pg.url('inventory'),
    SCRATCH_PG_URL: pg.url('postgres'),
    RESTORE_TARGET_PG_URL: pg.url('postgres'),
  };
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000, env });
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  await worker?.kill();
  await backends?.stop();
});

const dumpAndRestore = (storage: string, copy: string) =>
  planOf(`${head('roundtrip')}  steps:
    - id: dump
      uses: postgres.dump
      with: {source: "\${{ secrets.orders }}", service: orders-pg, storage: ${storage}}
    - id: restore
      uses: postgres.restore
      with: {restore_point: "\${{ steps.dump.outputs.restore_point_id }}", target: "\${{ secrets.scratch }}", database: ${copy}, create_database: true, storage: ${storage}}
`);

describe('postgres.dump / postgres.restore round trips', () => {
  it.each([
    ['file', () => fileStorage],
    ['MinIO (s3)', () => s3Storage],
  ])('through %s storage: same tables, counts and content', async (_name, storage) => {
    const copy = `orders_copy_${randomBytes(3).toString('hex')}`;
    const status = await runToEnd(client, dumpAndRestore(storage(), copy), site);
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const dump = stepOf(status, 'dump').outputs!;
    expect(dump).toMatchObject({ service: 'orders-pg', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(dump.size).toBeGreaterThan(10_000);
    expect(await fingerprint(backends.pg, copy)).toEqual(await fingerprint(backends.pg, 'orders'));
    expect((await fingerprint(backends.pg, copy)).orders!.rows).toBe(5000);
  });

  it('writes the manifest with identity but no credentials, and indexes the point', async () => {
    const status = await runToEnd(client, dumpAndRestore(fileStorage, `orders_copy_${randomBytes(3).toString('hex')}`), site);
    const id = String(stepOf(status, 'dump').outputs!.restore_point_id);
    const manifest = JSON.parse(readFileSync(join(fileRoot, 'orders-pg', 'postgres', id, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      id,
      service: 'orders-pg',
      kind: 'postgres',
      source: { host: '127.0.0.1', database: 'orders', user: 'rebound' },
      tool: { name: 'pg_dump' },
    });
    expect(manifest.server_version).toMatch(/^15\./);
    expect(JSON.stringify(manifest)).not.toContain(backends.pg.password);
    const [row] = await backends.pg.query('select status, size from restore_points where id = $1', [id], 'rebound_catalog');
    expect(row).toMatchObject({ status: 'unverified', size: String(manifest.size) });
  });
});

describe('retries converge', () => {
  it('an attempt after the manifest was committed reuses the point instead of dumping again', async () => {
    process.env.RETRY_TEST_PG = backends.pg.url('orders');
    const info = { scheduledTimestampMs: Date.parse('2026-11-24T01:00:00Z') };
    const { run } = stepRunner({ runbook: 'retry', runId: 'retry-run', step: 'dump', secrets: { pg: { env: 'RETRY_TEST_PG' } } });
    const w = { source: { $secret: 'pg' }, service: 'retry-pg', storage: { url: `file://${fileRoot}` } };
    const first = await run(postgresDumpImpl, w, { env: new MockActivityEnvironment({ ...info, attempt: 1 }) });
    const object = join(fileRoot, 'retry-pg', 'postgres', String(first.outputs.restore_point_id), 'data.pgdump');
    const written = statSync(object).mtimeMs;
    const second = await run(postgresDumpImpl, w, { env: new MockActivityEnvironment({ ...info, attempt: 2 }) });
    expect(second.outputs).toEqual(first.outputs);
    expect(statSync(object).mtimeMs).toBe(written);
    delete process.env.RETRY_TEST_PG;
  });
});

describe('backup.verify', { timeout: 300_000 }, () => {
  const verifyPlan = (ref: string) =>
    planOf(`${head('verify')}  steps:
    - id: verify
      uses: backup.verify
      with:
        restore_point: "${ref}"
        scratch: "\${{ secrets.scratch }}"
        storage: ${fileStorage}
        checks:
          tables: [orders, customers]
          min_rows: {orders: 5000}
          sql: [{query: "select 1 from orders where amount > 50"}]
`);

  it('verifies a good point; after bytes are flipped in storage it fails and marks the point failed', async () => {
    const dumped = await runToEnd(
      client,
      planOf(
        `${head('dump')}  steps:\n    - {id: dump, uses: postgres.dump, with: {source: "\${{ secrets.orders }}", service: verify-pg, storage: ${fileStorage}}}\n`,
      ),
      site,
    );
    const id = String(stepOf(dumped, 'dump').outputs!.restore_point_id);
    const good = await runToEnd(client, verifyPlan(id), site);
    expect(good.state).toBe('succeeded');
    expect(stepOf(good, 'verify').outputs).toMatchObject({ status: 'verified' });
    expect((await backends.pg.query('select status from restore_points where id = $1', [id], 'rebound_catalog'))[0]).toEqual({ status: 'verified' });
    // No scratch database is left behind.
    expect(await backends.pg.query("select datname from pg_database where datname like 'rebound_verify_%'")).toEqual([]);

    // The CLI runs the same verification as a one-step run on the worker.
    const cli = await rebound(['restore-points', 'verify', id, '--scratch-env', 'SCRATCH_PG', '--storage', `file://${fileRoot}`, '--site', site, '--json'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout).steps[0].outputs).toMatchObject({ restore_point_id: id, status: 'verified' });

    const object = join(fileRoot, 'verify-pg', 'postgres', id, 'data.pgdump');
    const fd = openSync(object, 'r+');
    const at = Math.floor(statSync(object).size / 2);
    const byte = Buffer.alloc(4);
    readSync(fd, byte, 0, 4, at);
    writeSync(fd, Buffer.from(byte.map((b) => b ^ 0xff)), 0, 4, at);
    closeSync(fd);

    const bad = await runToEnd(client, verifyPlan(id), site);
    expect(bad.state).toBe('failed');
    expect(stepOf(bad, 'verify').reason).toContain('failed verification: sha256');
    const verification = JSON.parse(readFileSync(join(fileRoot, 'verify-pg', 'postgres', id, 'verification.json'), 'utf8'));
    expect(verification.status).toBe('failed');
    expect((await backends.pg.query('select status from restore_points where id = $1', [id], 'rebound_catalog'))[0]).toEqual({ status: 'failed' });
  });
});

describe('catalog: resolve, retention, sync', { timeout: 600_000 }, () => {
  it('resolves latest points, prunes down to the last verified one, and sync reproduces the index', async () => {
    const storage = `{url: "file://${join(fileRoot, 'catalog')}"}`;
    const dumpPlan = planOf(
      `${head('nightly')}  steps:\n    - {id: dump, uses: postgres.dump, with: {source: "\${{ secrets.orders }}", service: retain-pg, storage: ${storage}}}\n`,
    );
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(String(stepOf(await runToEnd(client, dumpPlan, site), 'dump').outputs!.restore_point_id));
    const verifyOldest = planOf(
      `${head('verify')}  steps:\n    - {id: v, uses: backup.verify, with: {restore_point: "${ids[0]}", scratch: "\${{ secrets.scratch }}", storage: ${storage}}}\n`,
    );
    expect((await runToEnd(client, verifyOldest, site)).state).toBe('succeeded');

    const resolvePlan = planOf(`${head('resolve')}  steps:
    - {id: any, uses: catalog.resolve, with: {restore_point: {service: retain-pg, latest: any}, storage: ${storage}}}
    - {id: verified, uses: catalog.resolve, with: {restore_point: {service: retain-pg}, storage: ${storage}}}
`);
    const resolved = await runToEnd(client, resolvePlan, site);
    expect(stepOf(resolved, 'any').outputs!.restore_point_id).toBe(ids[2]);
    expect(stepOf(resolved, 'verified').outputs).toMatchObject({ restore_point_id: ids[0], status: 'verified' });

    // The CLI answers the same from the live index and from storage alone.
    const cliEnv = { REBOUND_CATALOG_URL: env.REBOUND_CATALOG_URL! };
    const fromIndex = JSON.parse(
      (await rebound(['restore-points', 'list', '--service', 'retain-pg', '--storage', `file://${join(fileRoot, 'catalog')}`, '--json'], cliEnv)).stdout,
    );
    const fromStorage = JSON.parse(
      (
        await rebound(['restore-points', 'list', '--service', 'retain-pg', '--storage', `file://${join(fileRoot, 'catalog')}`, '--json'], {
          REBOUND_CATALOG_URL: '',
        })
      ).stdout,
    );
    expect(fromIndex.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(fromIndex).toEqual(fromStorage);
    // The index answers for one store at a time: another store has none of these points.
    const elsewhere = JSON.parse(
      (await rebound(['restore-points', 'list', '--service', 'retain-pg', '--storage', `file://${join(fileRoot, 'elsewhere')}`, '--json'], cliEnv)).stdout,
    );
    expect(elsewhere).toEqual([]);

    // Sync into an empty catalog database rebuilds the same list from storage alone.
    await backends.pg.query('create database rebound_catalog_rebuilt');
    const rebuilt = { REBOUND_CATALOG_URL: backends.pg.url('rebound_catalog_rebuilt') };
    const sync = await rebound(['restore-points', 'sync', '--storage', `file://${join(fileRoot, 'catalog')}`], rebuilt);
    expect(sync.stdout).toContain('indexed 3 restore point(s)');
    const fromRebuilt = JSON.parse(
      (await rebound(['restore-points', 'list', '--service', 'retain-pg', '--storage', `file://${join(fileRoot, 'catalog')}`, '--json'], rebuilt)).stdout,
    );
    expect(fromRebuilt).toEqual(fromIndex);

    // Every point is older than a keep-nothing policy: the last verified one stays.
    const prunePlan = (dry: boolean) =>
      planOf(
        `${head('retention')}  steps:\n    - {id: prune, uses: restore_points.prune, with: {service: retain-pg, keep_last: 0, min_keep: 1, dry_run: ${dry}, storage: ${storage}}}\n`,
      );
    const dry = await runToEnd(client, prunePlan(true), site);
    expect(stepOf(dry, 'prune').outputs).toMatchObject({ kept: [ids[0]], deleted: [ids[2], ids[1]], dry_run: true });
    expect((await scanPoints(openStore({ url: `file://${join(fileRoot, 'catalog')}`, region: 'us-east-1', force_path_style: true }))).length).toBe(3);
    const pruned = await runToEnd(client, prunePlan(false), site);
    expect(stepOf(pruned, 'prune').outputs).toMatchObject({ kept: [ids[0]], deleted: [ids[2], ids[1]] });
    const left = await scanPoints(openStore({ url: `file://${join(fileRoot, 'catalog')}`, region: 'us-east-1', force_path_style: true }));
    expect(left.map((p) => p.id)).toEqual([ids[0]]);
    expect((await backends.pg.query("select id from restore_points where service = 'retain-pg'", [], 'rebound_catalog')).map((r) => r.id)).toEqual([ids[0]]);
  });
});

describe('secrets', { timeout: 300_000 }, () => {
  it('the database and MinIO secrets, right or wrong, appear nowhere in the history, the worker log or error messages', async () => {
    const oneStep = (name: string, step: string) => planOf(`${head(name)}  steps:\n    - ${step}\n`);
    const failing = {
      // The right password, a failure that is about something else.
      'missing database': oneStep(
        'secret-fail',
        `{id: dump, uses: postgres.dump, retry: {max_attempts: 1}, with: {source: "\${{ secrets.orders }}", database: no_such_db, service: s, storage: ${fileStorage}}}`,
      ),
      // Failures about the secrets themselves: a wrong PostgreSQL password, a wrong S3 secret key.
      'wrong password': oneStep(
        'secret-wrong-pg',
        `{id: dump, uses: postgres.dump, retry: {max_attempts: 1}, with: {source: "\${{ secrets.wrong_pg }}", service: s, storage: ${fileStorage}}}`,
      ),
      'wrong S3 secret key': oneStep(
        'secret-wrong-s3',
        `{id: dump, uses: postgres.dump, retry: {max_attempts: 1}, with: {source: "\${{ secrets.orders }}", service: s, storage: ${s3Storage.replace('secrets.minio_secret', 'secrets.wrong_minio_secret')}}}`,
      ),
    };
    const runs = await Promise.all(Object.values(failing).map((plan) => start(client, plan, site)));
    const failed = await Promise.all(runs.map((run) => finalStatus(run)));
    for (const status of failed) expect(status.state).toBe('failed');
    const [missing, wrongPg, wrongS3] = failed.map((status) => stepOf(status, 'dump').reason!);
    expect(missing).toContain('does not exist');
    expect(missing).toContain('not retryable');
    expect(wrongPg).toContain('password authentication failed');
    expect(wrongS3).toMatch(/signature|access key|credential|forbidden/i);
    const okRun = await start(client, dumpAndRestore(s3Storage, `orders_copy_${randomBytes(3).toString('hex')}`), site);
    expect((await finalStatus(okRun)).state).toBe('succeeded');
    const texts: Record<string, string> = {
      worker: worker.output(),
      'succeeded history': historyText(await okRun.fetchHistory()),
    };
    for (const [i, name] of Object.keys(failing).entries()) {
      texts[`${name}: error`] = JSON.stringify(failed[i]);
      texts[`${name}: history`] = historyText(await runs[i]!.fetchHistory());
    }
    const secrets = {
      'database password': backends.pg.password,
      'MinIO secret key': backends.minio.secretKey,
      'wrong database password': wrongPgPassword,
      'wrong S3 secret key': wrongMinioSecret,
    };
    for (const [where, text] of Object.entries(texts)) {
      for (const [what, secret] of Object.entries(secrets)) expect(text.includes(secret), `the ${what} leaked into the ${where}`).toBe(false);
    }
    // Positive controls: the decoded histories hold the secrets' references, and the worker
    // logged every failed attempt (a log that missed them would prove nothing).
    expect(texts['missing database: history']).toContain('ORDERS_PG');
    expect(texts['wrong password: history']).toContain('WRONG_PG');
    expect(texts['wrong S3 secret key: history']).toContain('WRONG_MINIO_SECRET');
    for (const run of runs) expect(texts.worker).toContain(`Activity failed (workflowId=${run.workflowId}`);
  });
});
