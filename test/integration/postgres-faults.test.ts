import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { CatalogIndex } from '../../activities/restore-points/catalog.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let pg: PostgresServer;
let client: Client;
const workers: WorkerProcess[] = [];
const root = mkdtempSync(join(tmpdir(), 'rebound-faults-'));

beforeAll(async () => {
  pg = await startPostgres();
  await pg.query('create database big');
  // ~200 MB uncompressed: a dump that takes seconds, long enough to interrupt.
  await pg.query(
    'create table payload as select g as id, md5(g::text) || md5((g * 31)::text) || md5((g * 17)::text) as body from generate_series(1, 1500000) g',
    [],
    'big',
  );
  client = await connect(inject('temporalAddress'));
}, 180_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await pg?.destroy();
});

function worker(site: string): Promise<WorkerProcess> {
  return startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), env: { BIG_PG: pg.url('big') } }).then((w) => {
    workers.push(w);
    return w;
  });
}

const dumpPlan = (service: string, retry: string, compress = 0) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${service}}\nspec:
  secrets: {big: {env: BIG_PG}}
  steps:
    - id: dump
      uses: postgres.dump
      heartbeat_timeout: 3s
      retry: ${retry}
      with: {source: "\${{ secrets.big }}", service: ${service}, compress: ${compress}, storage: {url: "file://${root}"}}
`);

/** Waits until a dump of `service` is being written: its data object exists, no manifest yet. */
async function midUpload(service: string, minBytes = 5_000_000): Promise<string> {
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

describe('faults during a dump', () => {
  it('a worker SIGKILLed mid-upload: a new worker finishes with exactly one restore point and no orphan', async () => {
    const site = uniqueSite('pgcrash');
    const first = await worker(site);
    const handle = await start(client, dumpPlan('crash-pg', '{initial_interval: 500ms}'), site);
    const partial = await midUpload('crash-pg');
    await first.kill('SIGKILL');
    await worker(site);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'dump').attempt).toBe(2);
    const { id, manifest } = onlyPoint('crash-pg');
    // The retry wrote to the same place: the partial object was overwritten, not left beside it.
    expect(id).toBe(partial);
    expect(manifest.size).toBeGreaterThan(100_000_000);
  });

  it('PostgreSQL stopped mid-dump and started again: the step retries and the run succeeds', async () => {
    const site = uniqueSite('pgfault');
    await worker(site);
    const handle = await start(client, dumpPlan('fault-pg', '{max_attempts: 10, initial_interval: 1s, backoff: 1}'), site);
    await midUpload('fault-pg');
    await pg.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await pg.start();
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
    onlyPoint('fault-pg');
  });

  it('cancelling a dump kills pg_dump and removes the partial object', async () => {
    const site = uniqueSite('pgcancel');
    await worker(site);
    // Compressed: slow enough that the cancel lands while pg_dump is still writing.
    const handle = await start(client, dumpPlan('cancel-pg', '{initial_interval: 500ms}', 9), site);
    const id = await midUpload('cancel-pg', 1_000_000);
    await handle.cancel();
    const status = await finalStatus(handle);
    expect(status.state).toBe('cancelled');
    expect(stepOf(status, 'dump').status).toBe('cancelled');
    expect(existsSync(join(root, 'cancel-pg', 'postgres', id))).toBe(false);
    const dumps = await pg.query("select count(*)::int as n from pg_stat_activity where application_name = 'pg_dump'");
    expect(dumps).toEqual([{ n: 0 }]);
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
