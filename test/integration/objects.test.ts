// objects.check and objects.replicate between two real MinIO servers: copy what is missing or stale, lag as RPO, max_lag, wrong keys.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsCheckImpl, objectsReplicateImpl } from '../../activities/objects/replicas.ts';
import { stepRunner } from '../helpers/activity.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startTogether } from '../helpers/servers.ts';
import { failureOf } from '../helpers/failure.ts';

let primary: MinioServer;
let dr: MinioServer;
const s3 = (m: MinioServer) =>
  new S3Client({ region: 'us-east-1', endpoint: m.endpoint, forcePathStyle: true, credentials: { accessKeyId: m.accessKey, secretAccessKey: m.secretKey } });
const put = (m: MinioServer, key: string, body: Buffer | string) => s3(m).send(new PutObjectCommand({ Bucket: 'assets', Key: key, Body: body }));
const get = async (m: MinioServer, key: string) =>
  Buffer.from(await (await s3(m).send(new GetObjectCommand({ Bucket: 'assets', Key: key }))).Body!.transformToByteArray());

beforeAll(async () => {
  [primary, dr] = await startTogether(startMinio(), startMinio());
  await Promise.all([s3(primary).send(new CreateBucketCommand({ Bucket: 'assets' })), s3(dr).send(new CreateBucketCommand({ Bucket: 'assets' }))]);
  for (let i = 0; i < 40; i++) await put(primary, `site/img/${i}.bin`, randomBytes(1000 + i));
  await put(primary, 'site/big.bin', randomBytes(20 * 1024 * 1024));
  await put(primary, 'other/not-in-prefix.txt', 'x');
  Object.assign(process.env, {
    OBJ_PRIMARY_KEY: primary.accessKey,
    OBJ_PRIMARY_SECRET: primary.secretKey,
    OBJ_DR_KEY: dr.accessKey,
    OBJ_DR_SECRET: dr.secretKey,
    OBJ_WRONG_SECRET: 'not-the-secret-key',
  });
}, 300_000);

afterAll(async () => {
  await Promise.all([primary?.stop(), dr?.stop()]);
});

const site = (m: MinioServer, secret = 'secret', who: 'primary' | 'dr' = m === primary ? 'primary' : 'dr') => ({
  url: 's3://assets/site',
  endpoint: m.endpoint,
  access_key: { $secret: `${who}_key` },
  secret_key: { $secret: secret === 'wrong' ? 'wrong' : `${who}_secret` },
});
const { run } = stepRunner({
  runbook: 'replicas',
  runId: 'run-1',
  step: 'replicate-assets',
  secrets: {
    primary_key: { env: 'OBJ_PRIMARY_KEY' },
    primary_secret: { env: 'OBJ_PRIMARY_SECRET' },
    dr_key: { env: 'OBJ_DR_KEY' },
    dr_secret: { env: 'OBJ_DR_SECRET' },
    wrong: { env: 'OBJ_WRONG_SECRET' },
  },
});

describe('objects replicas between two MinIO servers', () => {
  it('reports the lag, copies only what is missing or stale, and is in sync afterwards', { timeout: 120_000 }, async () => {
    const before = await run(objectsCheckImpl, { source: site(primary), replica: site(dr) });
    expect(before.outputs).toMatchObject({ source_objects: 41, replica_objects: 0, missing: 41, stale: 0 });
    expect(before.outputs.lag_ms).toBeGreaterThan(0);

    const env = new MockActivityEnvironment();
    const first = await run(objectsReplicateImpl, { source: site(primary), replica: site(dr), concurrency: 4 }, { env });
    // Each copy's cancel hook goes when the copy is done: 41 left on the activity's signal tripped MaxListenersExceededWarning.
    expect(getEventListeners(env.context.cancellationSignal, 'abort')).toEqual([]);
    expect(first.outputs).toMatchObject({ copied: 41 });
    expect(first.outputs.copied_bytes).toBe(20 * 1024 * 1024 + 40 * 1000 + (39 * 40) / 2);
    expect((await get(dr, 'site/big.bin')).equals(await get(primary, 'site/big.bin'))).toBe(true);
    await expect(get(dr, 'other/not-in-prefix.txt')).rejects.toThrow();

    const synced = await run(objectsCheckImpl, { source: site(primary), replica: site(dr), max_lag: '1s' });
    expect(synced.outputs).toMatchObject({ missing: 0, stale: 0, lag_ms: 0, oldest_unreplicated: null });

    // A changed and a new object at the primary: the replica lags, max_lag trips, the next pass copies just those two.
    await put(primary, 'site/img/3.bin', randomBytes(5000));
    await put(primary, 'site/img/new.bin', 'new');
    await put(dr, 'site/only-at-dr.txt', 'kept');
    await new Promise((r) => setTimeout(r, 1100));
    const lagging = await failureOf(run(objectsCheckImpl, { source: site(primary), replica: site(dr), max_lag: '1s' }));
    expect(lagging.nonRetryable).toBe(true);
    expect(lagging.message).toMatch(/the replica lags \d+ s behind \(oldest unreplicated: img\/(3|new)\.bin; 1 missing, 1 stale\), more than max_lag 1s/);
    const second = await run(objectsReplicateImpl, { source: site(primary), replica: site(dr) });
    expect(second.outputs).toMatchObject({ copied: 2, missing: 1, stale: 1, extra: 1 });
    expect((await get(dr, 'site/img/3.bin')).equals(await get(primary, 'site/img/3.bin'))).toBe(true);
    expect((await get(dr, 'site/only-at-dr.txt')).toString()).toBe('kept');
  });

  it('a wrong secret key fails without retry, naming the site, and the key appears nowhere', async () => {
    const failure = await failureOf(run(objectsCheckImpl, { source: site(primary), replica: site(dr, 'wrong') }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`objects: step "replicate-assets": listing s3://assets/site at ${dr.endpoint}: SignatureDoesNotMatch`);
    expect(JSON.stringify(failure)).not.toContain('not-the-secret-key');
  });
});
