// Faults during dumps — a killed worker, a stopped server, a cancel, a full disk — and what a running pg_dump exposes, on real servers; a relay holds each dump unfinished until its fault is in place.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { finalStatus } from '../../client/runs.ts';
import { CatalogIndex } from '../../activities/restore-points/catalog.ts';
import { scanPoints } from '../../activities/restore-points/manifest.ts';
import { openStore } from '../../activities/restore-points/object-store.ts';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { childrenNamed, exitsWithin, procStrings, waitForChild } from '../helpers/tool-processes.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { startTogether } from '../helpers/servers.ts';

let pg: PostgresServer;
let minio: MinioServer;
let s3: S3Client;
let client: Client;
const workers: WorkerProcess[] = [];
const relays: TcpRelay[] = [];
/** Bytes a relay lets through before holding: under a sixth of the ~200 MB table, so a held dump is unfinished by construction. */
const HOLD_AFTER = 30_000_000;
const root = mkdtempSync(join(tmpdir(), 'rebound-faults-'));
const BUCKET = 'faults';
let s3Storage = '';

beforeAll(async () => {
  [pg, minio] = await startTogether(startPostgres(), startMinio());
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  s3Storage = `{url: "s3://${BUCKET}/rebound", endpoint: "${minio.endpoint}", access_key: "\${{ secrets.minio_key }}", secret_key: "\${{ secrets.minio_secret }}"}`;
  await pg.query('create database big');
  // ~200 MB uncompressed: a dump that takes seconds, long enough to interrupt.
  await pg.query(
    'create table payload as select g as id, md5(g::text) || md5((g * 31)::text) || md5((g * 17)::text) as body from generate_series(1, 1500000) g',
    [],
    'big',
  );
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  for (const r of relays) await r.close();
  await pg?.destroy();
  s3?.destroy();
  await minio?.stop();
});

/** A relay in front of PostgreSQL that will hold its replies after HOLD_AFTER bytes. */
async function relay(): Promise<TcpRelay> {
  const r = await startTcpRelay(pg.port);
  relays.push(r);
  r.holdAfter(HOLD_AFTER);
  return r;
}

/** A worker on `site`; with `via`, its dumps reach PostgreSQL through that relay. */
function worker(site: string, via?: TcpRelay): Promise<WorkerProcess> {
  const big = pg.url('big');
  return startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { BIG_PG: via ? big.replace(`:${pg.port}/`, `:${via.port}/`) : big, MINIO_KEY: minio.accessKey, MINIO_SECRET: minio.secretKey },
  }).then((w) => {
    workers.push(w);
    return w;
  });
}

// 5 s, not less: on a loaded machine a heartbeat late by a few seconds would start a second
// attempt beside a live first one, which is not the fault these tests are about.
const dumpPlan = (service: string, retry: string, compress = 0, storage = `{url: "file://${root}"}`) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${service}}\nspec:
  secrets: {big: {env: BIG_PG}, minio_key: {env: MINIO_KEY}, minio_secret: {env: MINIO_SECRET}}
  steps:
    - id: dump
      uses: postgres.dump
      heartbeat_timeout: 5s
      retry: ${retry}
      with: {source: "\${{ secrets.big }}", service: ${service}, compress: ${compress}, storage: ${storage}}
`);

/** Waits until `via` holds a dump of `service` back and its data object is being written, no manifest yet: until release() it cannot finish. */
async function midUpload(service: string, via: TcpRelay, minBytes = 1_000_000): Promise<string> {
  await via.held();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const base = join(root, service, 'postgres');
    for (const id of existsSync(base) ? readdirSync(base) : []) {
      const data = join(base, id, 'data.pgdump');
      if (existsSync(data) && !existsSync(join(base, id, 'manifest.json')) && statSync(data).size >= minBytes) return id;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no dump of ${service} in progress`);
}

/** Exactly one restore point, whose object is complete and matches its manifest. */
function onlyPoint(service: string): { id: string; manifest: { size: number; sha256: string } } {
  const base = join(root, service, 'postgres');
  const ids = readdirSync(base);
  expect(ids).toHaveLength(1);
  const dir = join(base, ids[0]!);
  expect(readdirSync(dir).sort()).toEqual(['data.pgdump', 'manifest.json']);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const data = readFileSync(join(dir, 'data.pgdump'));
  expect(data.length).toBe(manifest.size);
  expect(createHash('sha256').update(data).digest('hex')).toBe(manifest.sha256);
  return { id: ids[0]!, manifest };
}

describe('faults during a dump', { timeout: 300_000 }, () => {
  it('a worker SIGKILLed mid-upload: a new worker finishes with exactly one restore point and no orphan', async () => {
    const site = uniqueSite('pgcrash');
    const via = await relay();
    const first = await worker(site, via);
    const handle = await start(client, dumpPlan('crash-pg', '{initial_interval: 500ms}'), site);
    const partial = await midUpload('crash-pg', via);
    const [pgDump] = childrenNamed(first.child.pid!, 'pg_dump');
    expect(pgDump).toBeDefined();
    await first.kill('SIGKILL');
    via.release();
    // Its pg_dump does not outlive it: the pipe it writes into is gone.
    expect(await exitsWithin(pgDump!)).toBe(true);
    await worker(site, via);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const { id, manifest } = onlyPoint('crash-pg');
    // The retry wrote to the same place: the partial object was overwritten, not left beside it.
    expect(id).toBe(partial);
    expect(manifest.size).toBeGreaterThan(100_000_000);
    // At least one attempt after the killed one; a heartbeat late under load may add another.
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
  });

  it('PostgreSQL stopped mid-dump and started again: the step retries and the run succeeds', async () => {
    const site = uniqueSite('pgfault');
    const via = await relay();
    await worker(site, via);
    const handle = await start(client, dumpPlan('fault-pg', '{max_attempts: 10, initial_interval: 1s, backoff: 1}'), site);
    await midUpload('fault-pg', via);
    await pg.stop();
    await pg.start();
    // pg_dump now reads the end of a connection its server dropped mid-COPY.
    via.release();
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    onlyPoint('fault-pg');
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
  });

  it('cancelling a dump kills pg_dump and removes the partial object', async () => {
    const site = uniqueSite('pgcancel');
    const via = await relay();
    await worker(site, via);
    const handle = await start(client, dumpPlan('cancel-pg', '{initial_interval: 500ms}', 9), site);
    const id = await midUpload('cancel-pg', via);
    await handle.cancel();
    // Still held: the step ends on the cancel alone, never by finishing a dump it could not finish.
    const status = await finalStatus(handle);
    expect(existsSync(join(root, 'cancel-pg', 'postgres', id))).toBe(false);
    expect(status.state).toBe('cancelled');
    expect(stepOf(status, 'dump').status).toBe('cancelled');
    // Its backend goes once it sees the killed pg_dump's connection closed.
    const dumps = () => pg.query("select count(*)::int as n from pg_stat_activity where application_name = 'pg_dump'");
    await expect.poll(dumps, { timeout: 10_000 }).toEqual([{ n: 0 }]);
    via.release();
  });

  it('a catalog that was down at first use works once it is back', async () => {
    await pg.query('create database late_catalog');
    await pg.stop();
    const catalog = new CatalogIndex(pg.url('late_catalog'));
    await expect(catalog.list({})).rejects.toThrow();
    await pg.start();
    expect(await catalog.list({})).toEqual([]);
    await catalog.close();
  });
});

/** Keys under a service's prefix in the bucket, and the multipart uploads still open there. */
async function inBucket(service: string): Promise<{ keys: string[]; uploads: { key: string; id: string }[] }> {
  const prefix = `rebound/${service}/`;
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  // MinIO lists open uploads by exact key only, or all of them: list all, keep this service's.
  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return {
    keys: (listed.Contents ?? []).map((o) => o.Key!).sort(),
    uploads: (open.Uploads ?? []).filter((u) => u.Key!.startsWith(prefix)).map((u) => ({ key: u.Key!, id: u.UploadId! })),
  };
}

/** Waits until a multipart upload of `service` has parts in MinIO: the dump is mid-upload. */
async function midS3Upload(service: string): Promise<{ key: string; id: string }> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    for (const upload of await inBucket(service).then(
      (b) => b.uploads,
      () => [],
    )) {
      const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.id })).catch(() => undefined);
      if (parts?.Parts?.length) return upload;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no multipart upload of ${service} in progress`);
}

async function sha256Of(key: string): Promise<{ size: number; sha256: string }> {
  const body = (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body as Readable;
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

describe('faults during a dump to S3 (MinIO), mid multipart upload', { timeout: 300_000 }, () => {
  it('a worker SIGKILLed: its pg_dump dies, a new worker finishes one restore point at the same key, no upload left open', async () => {
    const site = uniqueSite('s3crash');
    const via = await relay();
    const first = await worker(site, via);
    const handle = await start(client, dumpPlan('s3crash-pg', '{initial_interval: 500ms}', 0, s3Storage), site);
    await via.held();
    const killed = await midS3Upload('s3crash-pg');
    const pgDump = await waitForChild(first.child.pid!, 'pg_dump');
    await first.kill('SIGKILL');
    via.release();
    expect(await exitsWithin(pgDump)).toBe(true);
    await worker(site, via);
    const status = await finalStatus(handle);
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const id = String(stepOf(status, 'dump').outputs!.restore_point_id);
    const point = `rebound/s3crash-pg/postgres/${id}`;
    // One point, at the key the killed attempt was uploading to; nothing beside it.
    expect(killed.key).toBe(`${point}/data.pgdump`);
    const { keys, uploads } = await inBucket('s3crash-pg');
    expect(keys).toEqual([`${point}/data.pgdump`, `${point}/manifest.json`]);
    // The killed attempt's parts do not linger as an open upload nobody will complete.
    expect(uploads).toEqual([]);
    const manifest = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${point}/manifest.json` }))).Body!.transformToString());
    expect(await sha256Of(`${point}/data.pgdump`)).toEqual({ size: manifest.size, sha256: manifest.sha256 });
    expect(manifest.size).toBeGreaterThan(100_000_000);
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
  });

  it('a cancel: pg_dump is killed, the multipart upload aborted, no object and no manifest remain', async () => {
    const site = uniqueSite('s3cancel');
    const via = await relay();
    const w = await worker(site, via);
    const handle = await start(client, dumpPlan('s3cancel-pg', '{initial_interval: 500ms}', 9, s3Storage), site);
    await via.held();
    await midS3Upload('s3cancel-pg');
    const pgDump = await waitForChild(w.child.pid!, 'pg_dump');
    await handle.cancel();
    // Still held: the step ends on the cancel alone.
    const status = await finalStatus(handle);
    expect(await exitsWithin(pgDump)).toBe(true);
    expect(await inBucket('s3cancel-pg')).toEqual({ keys: [], uploads: [] });
    expect(status.state).toBe('cancelled');
    expect(stepOf(status, 'dump').status).toBe('cancelled');
    const dumps = () => pg.query("select count(*)::int as n from pg_stat_activity where application_name = 'pg_dump'");
    await expect.poll(dumps, { timeout: 10_000 }).toEqual([{ n: 0 }]);
    via.release();
  });
});

describe('a running pg_dump', { timeout: 300_000 }, () => {
  it('has the password in its environment (PGPASSWORD), never in its argv', async () => {
    const site = uniqueSite('pgargv');
    const w = await worker(site);
    const handle = await start(client, dumpPlan('argv-pg', '{max_attempts: 1}', 9), site);
    const pid = await waitForChild(w.child.pid!, 'pg_dump');
    const argv = procStrings(pid, 'cmdline');
    const environ = procStrings(pid, 'environ');
    await handle.cancel();
    expect((await finalStatus(handle)).state).toBe('cancelled');
    // The right process: the dump of this server.
    expect(argv).toEqual(expect.arrayContaining(['--port', String(pg.port), '--dbname', 'big', '--no-password']));
    expect(argv.some((a) => a.includes(pg.password))).toBe(false);
    expect(environ).toContain(`PGPASSWORD=${pg.password}`);
  });
});

describe('storage that fills up in the middle of a dump', { timeout: 300_000 }, () => {
  const full = mkdtempSync(join(tmpdir(), 'rebound-full-'));
  let mounted = false;

  beforeAll(() => {
    // A 2 MB tmpfs: the dump (hundreds of MB) cannot fit. Needs root, as the test stack does.
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', full], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`cannot mount a small tmpfs at ${full} (root needed): ${mount.stderr}`);
    mounted = true;
  });

  afterAll(() => {
    // Lazily: a worker process may still hold the directory open.
    if (mounted) spawnSync('umount', ['-l', full]);
    rmSync(full, { recursive: true, force: true });
  });

  it('fails the step with a message naming the storage, leaves no manifest and no object, and the source is untouched', async () => {
    const site = uniqueSite('pgfull');
    await worker(site);
    const before = await pg.query('select count(*)::int as n, sum(id)::bigint as s from payload', [], 'big');
    const handle = await start(client, dumpPlan('full-pg', '{max_attempts: 1}', 0, `{url: "file://${full}"}`), site);
    const status = await finalStatus(handle);
    expect(status.state).toBe('failed');
    const reason = stepOf(status, 'dump').reason!;
    expect(reason).toContain(`storage file://${full} is full (no space left on device)`);
    expect(reason).toContain('full-pg/postgres/');
    // Nothing left: no manifest, no partial object, so no restore point.
    expect(readdirSync(full, { recursive: true }).filter((entry) => statSync(join(full, String(entry))).isFile())).toEqual([]);
    expect(await scanPoints(openStore({ url: `file://${full}`, region: 'us-east-1', force_path_style: true }))).toEqual([]);
    expect(await pg.query('select count(*)::int as n, sum(id)::bigint as s from payload', [], 'big')).toEqual(before);
    expect(await pg.query("select count(*)::int as n from pg_stat_activity where application_name = 'pg_dump'")).toEqual([{ n: 0 }]);
  });
});
