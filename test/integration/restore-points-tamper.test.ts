// Tampered manifests in real stores (a file folder and MinIO): a manifest naming another place than its own is ignored, reported, and never makes prune delete outside one point.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { manifestFields } from '../helpers/points.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePrune } from '../../activities/restore-points/actions.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import { StorageSchema, type StorageConfig } from '../../contract/storage.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { rebound } from '../helpers/cli.ts';
import { startTogether } from '../helpers/servers.ts';

let minio: MinioServer;
let pg: PostgresServer;
let s3: S3Client;
const BUCKET = 'tamper';
const prune = definePrune({});

beforeAll(async () => {
  [minio, pg] = await startTogether(startMinio(), startPostgres());
  // One catalog per store: the catalog keys points by id alone, and both stores hold the same ids.
  await pg.query('create database catalog_file');
  await pg.query('create database catalog_s3');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
}, 300_000);

afterAll(async () => {
  s3?.destroy();
  await minio?.stop();
  await pg?.destroy();
});

/** What one store under test gives: its storage block, how a store writer without Rebound plants a file, and what it holds. */
interface Store {
  name: string;
  storage: StorageConfig;
  /** The CLI's environment for this store. */
  env: Record<string, string>;
  plant(key: string, text: string): Promise<void>;
  keys(): Promise<string[]>;
}

function fileStore(): Store {
  const root = mkdtempSync(join(tmpdir(), 'rebound-tamper-'));
  return {
    name: 'file',
    storage: StorageSchema.parse({ url: `file://${root}` }),
    env: {},
    async plant(key, text) {
      mkdirSync(join(root, key, '..'), { recursive: true });
      writeFileSync(join(root, key), text);
    },
    async keys() {
      const out: string[] = [];
      for await (const key of filesUnder(`file://${root}`)) out.push(key);
      return out.sort();
    },
  };
}

/** Every file under a file store, listed by walking the folder (not through the store under test). */
async function* filesUnder(url: string): AsyncIterable<string> {
  const { readdir } = await import('node:fs/promises');
  const root = new URL(url).pathname;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) yield join(entry.parentPath, entry.name).slice(root.length + 1);
  }
}

function s3Store(prefix: string): Store {
  return {
    name: 's3',
    storage: StorageSchema.parse({
      url: `s3://${BUCKET}/${prefix}`,
      endpoint: minio.endpoint,
      access_key: minio.accessKey,
      secret_key: minio.secretKey,
    }),
    env: { REBOUND_S3_ENDPOINT: minio.endpoint, AWS_ACCESS_KEY_ID: minio.accessKey, AWS_SECRET_ACCESS_KEY: minio.secretKey, AWS_REGION: 'us-east-1' },
    async plant(key, text) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${key}`, Body: text }));
    },
    async keys() {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
      return (page.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
    },
  };
}

async function commitPoint(storage: StorageConfig, service: string, id: string, completedAt: string): Promise<void> {
  const draft = openRestorePoints(storage).draft(service, 'postgres', id);
  await draft.put('data.pgdump', Readable.from([Buffer.from('dump')]));
  await draft.commit(manifestFields(completedAt));
}

/** A manifest a store writer put at a valid point's path, naming another place. */
const forged = (claim: Record<string, string>, completedAt: string) =>
  `${JSON.stringify({
    format: 'rebound.restore-point/v1',
    id: '20260301T000000Z-00000000',
    service: 'orders-pg',
    kind: 'postgres',
    storage: 'forged',
    ...manifestFields(completedAt),
    ...claim,
  })}\n`;

const { run } = stepRunner({ runbook: 'retention', runId: 'run-1', step: 'prune' });
const runPrune = (storage: StorageConfig) => run(prune, { service: 'orders-pg', keep_last: 1, storage }, { max_attempts: 1 });

const OLD = '20260301T010000Z-0000old1';
const NEW = '20260303T010000Z-0000new1';
const USERS = '20260302T010000Z-000user1';
const UP = '20260301T020000Z-0000up01';
const UPUP = '20260301T030000Z-0000up02';

describe.each([
  { name: 'file', make: fileStore },
  { name: 'S3 (MinIO)', make: () => s3Store(`p${Date.now()}`) },
])('a tampered manifest in a $name store', ({ make }) => {
  it(
    'claiming id ".." or "../.." is ignored by list and latest, reported by sync and list, and prune deletes one old point only',
    { timeout: 300_000 },
    async () => {
      const store = make();
      await commitPoint(store.storage, 'orders-pg', OLD, '2026-03-01T01:00:00Z');
      await commitPoint(store.storage, 'orders-pg', NEW, '2026-03-03T01:00:00Z');
      await commitPoint(store.storage, 'users-pg', USERS, '2026-03-02T01:00:00Z');
      // Older than the kept point: retention would delete them, at the place they claim.
      await store.plant(`orders-pg/postgres/${UP}/manifest.json`, forged({ id: '..' }, '2026-03-01T02:00:00Z'));
      await store.plant(`orders-pg/postgres/${UPUP}/manifest.json`, forged({ id: '../..' }, '2026-03-01T03:00:00Z'));
      const before = await store.keys();

      const points = openRestorePoints(store.storage);
      expect(
        (await points.list({ service: 'orders-pg' })).map((p) => p.id),
        store.name,
      ).toEqual([NEW, OLD]);
      expect(
        (await points.list({})).map((p) => p.id),
        store.name,
      ).toEqual([NEW, USERS, OLD]);
      expect((await points.latest('orders-pg', {}))?.id).toBe(NEW);
      expect(await points.get('..')).toBeUndefined();
      expect(await points.get('../..')).toBeUndefined();

      const env = { ...store.env, REBOUND_CATALOG_URL: pg.url(`catalog_${store.name}`) };
      const [synced, listed] = await Promise.all([
        rebound(['restore-points', 'sync', '--storage', store.storage.url], env),
        rebound(['restore-points', 'list', '--storage', store.storage.url, '--json'], { ...store.env, REBOUND_CATALOG_URL: '' }),
      ]);
      expect(synced.code, synced.stderr).toBe(0);
      expect(synced.stdout).toContain('indexed 3 restore point(s)');
      const report = `${synced.stdout}${synced.stderr}`;
      expect(report).toContain('ignored 2 manifests');
      expect(report).toContain(`orders-pg/postgres/${UP}/manifest.json: claims id '..'`);
      expect(report).toContain(`orders-pg/postgres/${UPUP}/manifest.json: claims id '../..'`);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).map((p: { id: string }) => p.id)).toEqual([NEW, USERS, OLD]);
      expect(listed.stderr).toContain('ignored 2 manifests');
      const indexed = await pg.query<{ id: string }>('select id from restore_points order by id', [], `catalog_${store.name}`);
      expect(indexed).toEqual([{ id: OLD }, { id: USERS }, { id: NEW }]);

      const result = await runPrune(store.storage);
      expect(result.outputs, store.name).toEqual({ kept: [NEW], deleted: [OLD], locked: [], dry_run: false });
      // Exactly the old point's folder went: the kept point, the other service and the planted files stay.
      expect(await store.keys(), store.name).toEqual(before.filter((k) => !k.startsWith(`orders-pg/postgres/${OLD}/`)));
      expect(before.filter((k) => k.startsWith(`orders-pg/postgres/${OLD}/`))).toHaveLength(2);
    },
  );
});

describe('RestorePoints.remove', () => {
  it('remove refuses a point whose id is not a restore-point id, deleting nothing', async () => {
    const store = fileStore();
    await commitPoint(store.storage, 'orders-pg', NEW, '2026-03-03T01:00:00Z');
    const before = await store.keys();
    const points = openRestorePoints(store.storage);
    const [point] = await points.list({});
    for (const id of ['..', '../..', '', 'a/b']) {
      await expect(points.remove({ ...point!, id }), id).rejects.toThrow(/not a restore point id/);
    }
    await expect(points.remove({ ...point!, service: '..' })).rejects.toThrow(/not a service name/);
    expect(await store.keys()).toEqual(before);
    expect(existsSync(new URL(`${store.storage.url}/orders-pg/postgres/${NEW}/manifest.json`))).toBe(true);
  });
});
