// mongodb.dump / restore / check and backup.verify on FerretDB, through a real Temporal server and a `rebound worker` process.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { finalStatus } from '../../client/runs.ts';
import { startFerretDb, type FerretDbServer } from '../../stack/ferretdb.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { ensurePymongo } from '../../stack/pymongo.ts';
import { historyText } from '../helpers/history.ts';
import { fingerprint, seedTypes } from '../helpers/mongo-data.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { startTogether } from '../helpers/servers.ts';

let ferret: FerretDbServer;
let minio: MinioServer;
let worker: WorkerProcess;
let client: Client;
let mongo: MongoClient;
const site = uniqueSite('mongo');
const fileRoot = mkdtempSync(join(tmpdir(), 'rebound-mongo-storage-'));
const fileStorage = `{url: "file://${fileRoot}"}`;
let s3Storage = '';

const head = (name: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:
  secrets:
    app: {env: APP_MONGO}
    bad: {env: BAD_MONGO}
    minio_key: {env: MINIO_KEY}
    minio_secret: {env: MINIO_SECRET}
  steps:
`;
const dumpStep = (service: string, storage: string, extra = '') =>
  `    - {id: dump, uses: mongodb.dump, with: {source: "\${{ secrets.app }}", service: ${service}, include: ["app.*"], storage: ${storage}${extra}}}\n`;

beforeAll(async () => {
  [ferret, minio] = await startTogether(startFerretDb(), startMinio());
  await ferret.pg.query('create database rebound_catalog');
  await seedTypes(ferret.url());
  mongo = await MongoClient.connect(ferret.url());
  s3Storage = `{url: "s3://backups/mongo", endpoint: "${minio.endpoint}", access_key: "\${{ secrets.minio_key }}", secret_key: "\${{ secrets.minio_secret }}"}`;
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: {
      APP_MONGO: ferret.url(),
      BAD_MONGO: ferret.url({ password: 'not-the-password' }),
      MINIO_KEY: minio.accessKey,
      MINIO_SECRET: minio.secretKey,
      REBOUND_CATALOG_URL: ferret.pg.url('rebound_catalog'),
    },
  });
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  await mongo?.close();
  await worker?.kill();
  await Promise.all([ferret?.destroy(), minio?.stop()]);
});

describe('mongodb.dump → mongodb.restore', () => {
  it('round-trips every stored BSON type, a 15 MB document, empty, capped and dotted collections and indexes through MinIO, into scratch names', async () => {
    const before = await fingerprint(mongo, 'app');
    const status = await runToEnd(
      client,
      planOf(`${head('roundtrip')}${dumpStep('rt-mongo', s3Storage)}    - id: restore
      uses: mongodb.restore
      with: {restore_point: "\${{ steps.dump.outputs.restore_point_id }}", target: "\${{ secrets.app }}", namespace: {from: "app.*", to: "rt_app.*"}, batch_bytes: 1048576, storage: ${s3Storage}}
`),
      site,
    );
    expect(status.error).toBeUndefined();
    expect(stepOf(status, 'dump').outputs).toMatchObject({ collections: 6, documents: 4 + 1 + 10 + 2 + 2000 });
    expect(stepOf(status, 'restore').outputs).toMatchObject({ collections: 6, documents: 2017, duplicates: 0 });
    const copy = await fingerprint(mongo, 'rt_app');
    expect(Object.keys(copy).sort()).toEqual(['big', 'capped', 'empty', 'orders', 'types', 'with.dots']);
    // Byte-identical documents per _id, the same indexes (unique, compound, descending) and options (capped size and max).
    expect(copy).toEqual(before);
    expect(copy.capped!.options).toMatchObject({ capped: true, size: 1 << 20, max: 100 });
    expect(copy.orders!.indexes.map((i) => i.name)).toEqual(['_id_', 'at_desc', 'sku_qty']);
    // The source is untouched.
    expect(await fingerprint(mongo, 'app')).toEqual(before);
  });

  it("writes mongodump's layout that an independent reader (PyMongo) decodes, and a manifest listing every object", async () => {
    const status = await runToEnd(client, planOf(`${head('layout')}${dumpStep('files-mongo', fileStorage)}`), site);
    const id = String(stepOf(status, 'dump').outputs!.restore_point_id);
    const dir = join(fileRoot, 'files-mongo', 'mongodb', id);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const files = readdirSync(join(dir, 'app')).sort();
    expect(files).toEqual(
      ['big', 'capped', 'empty', 'orders', 'types', 'with.dots'].flatMap((c) => [`${c}.bson.gz`, `${c}.metadata.json.gz`]).sort((a, b) => a.localeCompare(b)),
    );
    expect(manifest).toMatchObject({ kind: 'mongodb', object: '', consistency: { mode: 'collection' }, source: { user: 'rebound' } });
    expect(JSON.stringify(manifest)).not.toContain(ferret.password);
    for (const object of manifest.objects) {
      const data = readFileSync(join(dir, object.name));
      expect([object.name, data.length, createHash('sha256').update(data).digest('hex')]).toEqual([object.name, object.size, object.sha256]);
    }
    const python = spawnSync(
      'python3',
      [join(import.meta.dirname, '../helpers/read-bson.py'), ...files.filter((f) => f.endsWith('.bson.gz')).map((f) => join(dir, 'app', f))],
      {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: ensurePymongo() },
        maxBuffer: 64 << 20,
      },
    );
    expect(python.stderr).toBe('');
    const decoded: Record<string, string[]> = JSON.parse(python.stdout);
    const server = await fingerprint(mongo, 'app');
    for (const [path, hashes] of Object.entries(decoded)) {
      const collection = path
        .split('/')
        .pop()!
        .replace(/\.bson\.gz$/, '');
      expect(hashes.sort(), collection).toEqual(Object.values(server[collection]!.documents).sort());
      expect(manifest.objects.find((o: { name: string }) => o.name === `app/${collection}.bson.gz`).documents).toBe(hashes.length);
    }
  });

  it('consistency: snapshot fails clearly before reading anything: FerretDB has no replica set', async () => {
    const status = await runToEnd(client, planOf(`${head('snapshot')}${dumpStep('snap-mongo', fileStorage, ', consistency: snapshot')}`), site);
    expect(status.state).toBe('failed');
    const reason = stepOf(status, 'dump').reason!;
    expect(reason).toContain('consistency: snapshot needs a MongoDB ≥ 5.0 replica set');
    expect(reason).toContain('not retryable');
    expect(stepOf(status, 'dump').attempt).toBe(1);
    expect(existsSync(join(fileRoot, 'snap-mongo'))).toBe(false);
  });
});

describe('backup.verify and mongodb.check', () => {
  const verifyPlan = (ref: string) =>
    planOf(`${head('verify')}    - id: verify
      uses: backup.verify
      with:
        restore_point: "${ref}"
        scratch: "\${{ secrets.app }}"
        storage: ${fileStorage}
        checks:
          tables: [app.orders, app.with.dots]
          min_rows: {app.orders: 2000}
          match: [{collection: app.types, filter: {"_id": {"$oid": "65f0a0a0a0a0a0a0a0a0a0a0"}}}]
`);

  it('verifies a good point and drops its scratch databases; after bytes are flipped it marks the point failed', async () => {
    const dumped = await runToEnd(client, planOf(`${head('dump')}${dumpStep('verify-mongo', fileStorage)}`), site);
    const id = String(stepOf(dumped, 'dump').outputs!.restore_point_id);
    const good = await runToEnd(client, verifyPlan(id), site);
    expect(good.error).toBeUndefined();
    const checks = stepOf(good, 'verify').outputs!.checks as { check: string; ok: boolean }[];
    expect(checks.map((c) => c.check)).toEqual(expect.arrayContaining(['sha256', 'restore', 'documents in app.orders', 'collection app.with.dots']));
    expect(checks.every((c) => c.ok)).toBe(true);
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    expect(databases.map((d) => d.name).filter((n) => n.startsWith('rv_'))).toEqual([]);
    expect((await ferret.pg.query('select status from restore_points where id = $1', [id], 'rebound_catalog'))[0]).toEqual({ status: 'verified' });

    const object = join(fileRoot, 'verify-mongo', 'mongodb', id, 'app', 'orders.bson.gz');
    const fd = openSync(object, 'r+');
    const at = Math.floor(statSync(object).size / 2);
    const bytes = Buffer.alloc(4);
    readSync(fd, bytes, 0, 4, at);
    writeSync(fd, Buffer.from(bytes.map((b) => b ^ 0xff)), 0, 4, at);
    closeSync(fd);
    const bad = await runToEnd(client, verifyPlan(id), site);
    expect(bad.state).toBe('failed');
    expect(stepOf(bad, 'verify').reason).toContain('failed verification: sha256: app/orders.bson.gz');
    // Named after the point's kind, not a fixed backend ("postgres: …" before).
    expect(stepOf(bad, 'verify').reason).toMatch(/^mongodb: step "verify": /);
    expect(JSON.parse(readFileSync(join(fileRoot, 'verify-mongo', 'mongodb', id, 'verification.json'), 'utf8')).status).toBe('failed');
  });

  it('mongodb.check passes on the source and fails, naming the check, when a filter matches nothing', async () => {
    const status = await runToEnd(
      client,
      planOf(`${head('check')}    - id: ok
      uses: mongodb.check
      with: {target: "\${{ secrets.app }}", database: app, checks: {tables: [orders, empty], min_rows: {orders: 2000}, match: [{collection: orders, filter: {qty: {"$gte": 12}}, min_rows: 100}]}}
    - id: missing
      uses: mongodb.check
      retry: {max_attempts: 1}
      with: {target: "\${{ secrets.app }}", checks: {match: [{collection: app.orders, filter: {sku: nope}}]}}
`),
      site,
    );
    expect(stepOf(status, 'ok').status).toBe('succeeded');
    expect(stepOf(status, 'missing').reason).toContain('match app.orders {"sku":"nope"}: 0 documents (need 1)');
  });
});

describe('credentials', () => {
  it('a wrong password fails once, clearly, without retry; the password is nowhere in history, logs or errors', async () => {
    const failedRun = await start(
      client,
      planOf(
        `${head('badpass')}    - {id: dump, uses: mongodb.dump, retry: {max_attempts: 5}, with: {source: "\${{ secrets.bad }}", service: bad-mongo, storage: ${fileStorage}}}\n`,
      ),
      site,
    );
    const failed = await finalStatus(failedRun);
    expect(failed.state).toBe('failed');
    const reason = stepOf(failed, 'dump').reason!;
    expect(reason).toContain('authentication failed');
    expect(reason).toContain('not retryable (attempt 1)');
    const okRun = await start(client, planOf(`${head('goodpass')}${dumpStep('pass-mongo', s3Storage)}`), site);
    expect((await finalStatus(okRun)).state).toBe('succeeded');
    const texts: Record<string, string> = {
      worker: worker.output(),
      errors: JSON.stringify(failed),
      'failed history': historyText(await failedRun.fetchHistory()),
      'succeeded history': historyText(await okRun.fetchHistory()),
    };
    for (const [where, text] of Object.entries(texts)) {
      expect(text.includes(ferret.password), `the MongoDB password leaked into the ${where}`).toBe(false);
      expect(text.includes('not-the-password'), `the wrong password leaked into the ${where}`).toBe(false);
      expect(text.includes(minio.secretKey), `the MinIO secret leaked into the ${where}`).toBe(false);
    }
    expect(texts['failed history']).toContain('BAD_MONGO');
  });
});
