// S3 Object Lock on restore points, on a real MinIO bucket created with Object Lock: every object is locked, the store's own credentials cannot delete it early, prune keeps and names a locked point and deletes every version once retention passes; file:// refuses object_lock.
import { mkdtempSync } from 'node:fs';
import { manifestFields } from '../helpers/points.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectRetentionCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePrune } from '../../activities/restore-points/actions.ts';
import { openRestorePoints, type RestorePoint } from '../../activities/restore-points/index.ts';
import { openStore } from '../../activities/restore-points/object-store.ts';
import { ActionError } from '../../activities/runtime/errors.ts';
import { StorageSchema, type StorageConfig } from '../../contract/storage.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { stepRunner } from '../helpers/activity.ts';

let minio: MinioServer;
let s3: S3Client;
const BUCKET = 'locked';
const SERVICE = 'orders-pg';
/** Long enough that writing two points and pruning once stays well inside it on a loaded machine; the test waits it out by polling. */
const RETAIN = '10s';
const prune = definePrune({});

beforeAll(async () => {
  minio = await startMinio();
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  // Object Lock is a bucket's from its creation (and turns versioning on): Rebound never creates such a bucket itself.
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await minio?.stop();
});

const storage = (prefix: string): StorageConfig =>
  StorageSchema.parse({
    url: `s3://${BUCKET}/${prefix}`,
    endpoint: minio.endpoint,
    access_key: minio.accessKey,
    secret_key: minio.secretKey,
    object_lock: { mode: 'COMPLIANCE', retain: RETAIN },
  });

/** A point of a small object (one PutObject) and, with `big`, one of 6 MB (a multipart upload). */
async function commitPoint(config: StorageConfig, id: string, completedAt: string, big = false): Promise<RestorePoint> {
  const draft = openRestorePoints(config).draft(SERVICE, 'postgres', id);
  await draft.put('data.pgdump', Readable.from([Buffer.from('dump')]));
  if (big) await draft.put('big.bin', Readable.from([Buffer.alloc(6 * 1024 * 1024, 1)]));
  return draft.commit(manifestFields(completedAt));
}

const steps = stepRunner({ runbook: 'retention', runId: 'run-lock', step: 'prune' });
const runPrune = (step: string, w: Record<string, unknown>) => steps.run(prune, w, { step, max_attempts: 1 });
const keepLast = (config: StorageConfig) => ({ service: SERVICE, keep_last: 1, storage: config });

/** Every version and delete marker under a key prefix, straight from the bucket. */
async function versionsUnder(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const OLD = '20260301T010000Z-0000old1';
const NEW = '20260303T010000Z-0000new1';

describe('restore points with storage.object_lock on MinIO', () => {
  it('locks every object, refuses an early delete, keeps and names the locked point, then deletes every version of it', { timeout: 120_000 }, async () => {
    const prefix = `p${Date.now()}`;
    const config = storage(prefix);
    const old = await commitPoint(config, OLD, '2026-03-01T01:00:00Z', true);
    const newer = await commitPoint(config, NEW, '2026-03-03T01:00:00Z');
    expect(old.retain_until).toBeDefined();
    const retainUntil = Date.parse(old.retain_until!);
    const folder = `${prefix}/${openRestorePoints(config).keyOf(old, '')}`;

    for (const object of ['data.pgdump', 'big.bin', 'manifest.json']) {
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: `${folder}${object}` }));
      expect(retention.Retention?.Mode, object).toBe('COMPLIANCE');
      // Each object is locked from its own write; the manifest, written last, until the date it records.
      expect(retention.Retention!.RetainUntilDate!.getTime(), object).toBeGreaterThan(Date.now());
      expect(retention.Retention!.RetainUntilDate!.getTime(), object).toBeLessThanOrEqual(retainUntil + 1000);
    }
    expect(Date.now(), 'the lock must still hold for the next checks to mean anything').toBeLessThan(retainUntil);

    // The store's own credentials (MinIO's root user here) cannot delete a locked version.
    const [data] = (await versionsUnder(`${folder}data.pgdump`)).map((v) => v.split('@')[1]);
    const early = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${folder}data.pgdump`, VersionId: data })).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(Error);
    // MinIO's words for it (AWS answers AccessDenied); the version is still there either way.
    expect(`${(early as Error).name}: ${(early as Error).message}`).toMatch(/^(InvalidRequest: Object is WORM protected|AccessDenied)/);
    expect(await versionsUnder(`${folder}data.pgdump`)).toEqual([`${folder}data.pgdump@${data}`]);

    const first = await runPrune('prune-early', keepLast(config));
    expect(first.outputs).toEqual({ kept: [NEW], deleted: [], locked: [{ id: OLD, retain_until: old.retain_until }], dry_run: false });
    expect((await openRestorePoints(config).scan(SERVICE)).map((p) => p.id)).toEqual([NEW, OLD]);

    // A verdict is locked as long as its point: deleting it early would turn a verified point unverified.
    const verdict = { status: 'verified' as const, at: new Date().toISOString(), detail: 'ok', checks: [] };
    await openRestorePoints(config).recordVerification(newer, verdict);
    const newFolder = `${prefix}/${openRestorePoints(config).keyOf(newer, '')}`;
    const verdictLock = await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: `${newFolder}verification.json` }));
    expect(verdictLock.Retention?.RetainUntilDate?.getTime()).toBe(Date.parse(newer.retain_until!));

    await until(() => Date.now() > Math.max(retainUntil, Date.parse(newer.retain_until!)) + 1000, 60_000);
    // A verdict after the lock has passed is still recorded (S3 refuses a retention date in the past).
    await openRestorePoints(config).recordVerification(newer, { ...verdict, at: new Date().toISOString() });
    const second = await runPrune('prune-late', keepLast(config));
    expect(second.outputs).toEqual({ kept: [NEW], deleted: [OLD], locked: [], dry_run: false });
    expect((await openRestorePoints(config).scan(SERVICE)).map((p) => p.id)).toEqual([NEW]);
    // Gone, not hidden behind delete markers: no version of any of its objects is left.
    expect(await versionsUnder(folder)).toEqual([]);
  });
});

describe('a store with object_lock and its bucket', () => {
  it(
    'a missing bucket is created with Object Lock; one without it refuses the locked write, so no backup claims a lock it lacks',
    { timeout: 60_000 },
    async () => {
      const fresh = { ...storage('p'), url: `s3://fresh${Date.now()}/p` };
      const point = await commitPoint(fresh, OLD, '2026-03-01T01:00:00Z');
      const bucket = fresh.url.slice(5, -2);
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: `p/${openRestorePoints(fresh).keyOf(point)}` }));
      expect(retention.Retention?.Mode).toBe('COMPLIANCE');

      const plain = `plain${Date.now()}`;
      await s3.send(new CreateBucketCommand({ Bucket: plain }));
      const error = await commitPoint({ ...storage('p'), url: `s3://${plain}/p` }, NEW, '2026-03-03T01:00:00Z').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ActionError);
      expect((error as ActionError).retryable).toBe(false);
      expect((error as Error).message).toContain(`bucket ${plain} has no Object Lock`);
      // Not even the data object was written unlocked.
      expect((await s3.send(new ListObjectVersionsCommand({ Bucket: plain }))).Versions ?? []).toEqual([]);
    },
  );
});

describe('a file:// store with object_lock', () => {
  const lock = { mode: 'GOVERNANCE', retain: '30d' } as const;
  const url = () => `file://${mkdtempSync(join(tmpdir(), 'rebound-lock-'))}`;

  it('is refused by the storage schema, at object_lock (what the compiler checks)', () => {
    const parsed = StorageSchema.safeParse({ url: url(), object_lock: lock });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['object_lock']);
    expect(parsed.error!.issues[0]!.message).toContain('object_lock needs an s3:// store');
  });

  it('is refused when opened, however the config was built', () => {
    expect(() => openStore({ url: url(), region: 'us-east-1', force_path_style: true, object_lock: lock })).toThrow(/cannot lock objects/);
  });

  it('fails a prune step as not retryable', async () => {
    const error = await runPrune('prune-file', { service: SERVICE, storage: { url: url(), object_lock: lock } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toContain('object_lock needs an s3:// store');
  });
});
