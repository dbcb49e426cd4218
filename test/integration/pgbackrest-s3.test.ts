// pgBackRest with an S3 repository on MinIO over TLS (its own self-signed certificate, endpoint localhost): WAL and an encrypted backup in the bucket, a restore to a time, wrong S3 credentials refused and masked.
import { Agent } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbackrestBackupImpl } from '../../activities/pgbackrest/backup.ts';
import { pgbackrestRestoreImpl } from '../../activities/pgbackrest/restore.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startArchivingCluster, type ArchivingCluster } from '../../stack/pgbackrest.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { exactly, ledger } from '../helpers/ledger.ts';

let minio: MinioServer;
let cluster: ArchivingCluster;
let s3: S3Client;
const BUCKET = 'pgbackrest';
const root = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-s3-'));
const { commitRow, archived, create, now } = ledger(() => cluster.pg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  minio = await startMinio({ tls: true });
  s3 = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    // Trusting MinIO's certificate only: no verification is switched off anywhere.
    requestHandler: { httpsAgent: new Agent({ ca: readFileSync(minio.caFile!) }) },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const endpoint = new URL(minio.endpoint).host; // localhost:port
  cluster = await startArchivingCluster({ s3: { endpoint, bucket: BUCKET, caFile: minio.caFile!, accessKey: minio.accessKey, secretKey: minio.secretKey } });
  Object.assign(process.env, {
    PGBR_S3_CIPHER: cluster.cipherPass,
    PGBR_S3_KEY: minio.accessKey,
    PGBR_S3_SECRET: minio.secretKey,
    PGBR_S3_WRONG: 'not-the-minio-secret-0451',
  });
  await create();
}, 900_000); // the first run builds MinIO

afterAll(async () => {
  await cluster?.destroy();
  await minio?.stop();
  rmSync(root, { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'pitr-s3',
  step: 'backup',
  with: () => ({ storage: { url: `file://${root}` } }),
  secrets: { cipher: { env: 'PGBR_S3_CIPHER' }, s3key: { env: 'PGBR_S3_KEY' }, s3secret: { env: 'PGBR_S3_SECRET' }, wrong: { env: 'PGBR_S3_WRONG' } },
});
const credentials = (secret = 's3secret') => ({ cipher_pass: { $secret: 'cipher' }, s3_key: { $secret: 's3key' }, s3_key_secret: { $secret: secret } });

async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

describe('pgBackRest on an S3 repository (MinIO over TLS)', () => {
  let pointId = '';

  it('archives WAL and an encrypted backup into the bucket, and restores to a time from it', { timeout: 600_000 }, async () => {
    await commitRow(1);
    const backup = await run(pgbackrestBackupImpl, { service: 'orders-pg', ...cluster.backupWith('cipher') }, { run_id: 'backup-s3' });
    pointId = backup.outputs.restore_point_id as string;
    const prefix = `${cluster.repoPath.slice(1)}/`;
    expect(await keys(`${prefix}archive/${cluster.stanza}/`)).not.toHaveLength(0);
    const info = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}backup/${cluster.stanza}/backup.info` }));
    // Client-side encryption: the bucket holds OpenSSL's salted ciphertext, not pgBackRest's ini text.
    expect(
      Buffer.from(await info.Body!.transformToByteArray())
        .subarray(0, 8)
        .toString(),
    ).toBe('Salted__');

    await commitRow(2);
    await sleep(1_100);
    const target = await now();
    await sleep(1_100);
    await commitRow(3);
    await archived();
    const restored = await run(pgbackrestRestoreImpl, { restore_point: pointId, target: { time: target }, checks: exactly(2), pgbackrest: credentials() });
    expect((restored.outputs.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
    expect(Date.parse(restored.outputs.reached as string)).toBeLessThan(Date.parse(target));
  });

  it('a wrong S3 secret is auth_failed, not retried, naming the bucket and endpoint, the secret masked', { timeout: 120_000 }, async () => {
    const failure = await failureOf(run(pgbackrestRestoreImpl, { restore_point: pointId, target: 'latest', pgbackrest: credentials('wrong') }));
    expect(failure).toMatchObject({ type: 'auth_failed', nonRetryable: true });
    expect(failure.message).toContain(`s3 ${BUCKET}${cluster.repoPath} at ${new URL(minio.endpoint).host}`);
    expect(failure.message).toContain('S3 refused the credentials');
    expect(failure.message).not.toContain('not-the-minio-secret-0451');
  });
});
