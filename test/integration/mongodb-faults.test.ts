// Faults during mongodb.dump on FerretDB — worker SIGKILLed, FerretDB stopped, the step cancelled — each landing while a relay holds the dump unfinished.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { finalStatus } from '../../client/runs.ts';
import { startFerretDb, type FerretDbServer } from '../../stack/ferretdb.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let ferret: FerretDbServer;
let client: Client;
const workers: WorkerProcess[] = [];
const relays: TcpRelay[] = [];
const root = mkdtempSync(join(tmpdir(), 'rebound-mongo-faults-'));
const DOCUMENTS = 6000;
/** Bytes a relay lets through before holding: a few batches of ~48 MB, so a held dump is unfinished by construction. */
const HOLD_AFTER = 4_000_000;

beforeAll(async () => {
  ferret = await startFerretDb();
  const mongo = await MongoClient.connect(ferret.url());
  // ~50 MB of barely compressible documents: far more than a relay lets through before it holds.
  for (let i = 0; i < DOCUMENTS; i += 500) {
    await mongo
      .db('big')
      .collection<{ _id: number; body: string }>('payload')
      .insertMany(Array.from({ length: 500 }, (_, j) => ({ _id: i + j, body: randomBytes(6000).toString('base64') })));
  }
  await mongo.db('big').collection<{ _id: number }>('small').insertOne({ _id: 1 });
  await mongo.close();
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  for (const r of relays) await r.close();
  await ferret?.destroy();
});

/** A relay in front of FerretDB that will hold its replies after HOLD_AFTER bytes. */
async function relay(): Promise<TcpRelay> {
  const r = await startTcpRelay(ferret.port);
  relays.push(r);
  r.holdAfter(HOLD_AFTER);
  return r;
}

/** A worker on `site` whose secret points at FerretDB through `via`. */
async function worker(site: string, via: TcpRelay): Promise<WorkerProcess> {
  const w = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { BIG_MONGO: ferret.url().replace(`:${ferret.port}/`, `:${via.port}/`) },
  });
  workers.push(w);
  return w;
}

const dumpPlan = (service: string, retry: string) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${service}}\nspec:
  secrets: {big: {env: BIG_MONGO}}
  steps:
    - id: dump
      uses: mongodb.dump
      heartbeat_timeout: 5s
      retry: ${retry}
      with: {source: "\${{ secrets.big }}", service: ${service}, include: ["big.*"], batch_size: 20, parallel: 1, compress: 9, storage: {url: "file://${root}"}}
`);

/**
 * Waits until `via` holds the dump of `service` back and its payload object is being
 * written, with no manifest: until release() that dump cannot finish, whatever the speed.
 */
async function heldMidUpload(service: string, via: TcpRelay): Promise<string> {
  await via.held();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const base = join(root, service, 'mongodb');
    for (const id of existsSync(base) ? readdirSync(base) : []) {
      const data = join(base, id, 'big', 'payload.bson.gz');
      if (existsSync(data) && !existsSync(join(base, id, 'manifest.json')) && statSync(data).size >= 100_000) return id;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no dump of ${service} in progress behind the relay`);
}

/** Exactly one restore point: every object its manifest lists, complete, and nothing else. */
function onlyPoint(service: string): { id: string; manifest: { objects: { name: string; size: number; sha256: string; documents?: number }[] } } {
  const base = join(root, service, 'mongodb');
  const ids = readdirSync(base);
  expect(ids).toHaveLength(1);
  const dir = join(base, ids[0]!);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const names = manifest.objects.map((o: { name: string }) => o.name).sort();
  expect(['manifest.json', ...readdirSync(join(dir, 'big')).map((f) => `big/${f}`)].sort()).toEqual(['manifest.json', ...names].sort());
  for (const object of manifest.objects) {
    const data = readFileSync(join(dir, object.name));
    expect([data.length, createHash('sha256').update(data).digest('hex')]).toEqual([object.size, object.sha256]);
  }
  expect(manifest.objects.find((o: { name: string }) => o.name === 'big/payload.bson.gz').documents).toBe(DOCUMENTS);
  return { id: ids[0]!, manifest };
}

describe('faults during a MongoDB dump', () => {
  it('a worker SIGKILLed mid-dump: a new worker finishes with exactly one restore point and no orphan manifest', async () => {
    const site = uniqueSite('mgcrash');
    const via = await relay();
    const first = await worker(site, via);
    const handle = await start(client, dumpPlan('crash-mongo', '{initial_interval: 500ms}'), site);
    const partial = await heldMidUpload('crash-mongo', via);
    await first.kill('SIGKILL');
    via.release();
    await worker(site, via);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(onlyPoint('crash-mongo').id).toBe(partial);
    // At least one attempt after the killed one; a heartbeat late under load may add another.
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
  });

  it('FerretDB stopped mid-dump and started again: the step retries and succeeds', async () => {
    const site = uniqueSite('mgfault');
    const via = await relay();
    await worker(site, via);
    const handle = await start(client, dumpPlan('fault-mongo', '{max_attempts: 10, initial_interval: 1s, backoff: 1}'), site);
    await heldMidUpload('fault-mongo', via);
    await ferret.stop();
    await ferret.start();
    // The held connections are reset now: the dump's cursor died with the server that had it.
    via.release();
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    onlyPoint('fault-mongo');
    expect(stepOf(status, 'dump').attempt).toBeGreaterThanOrEqual(2);
  });

  it('cancelling a dump stops its cursors and removes the partial objects', async () => {
    const site = uniqueSite('mgcancel');
    const via = await relay();
    await worker(site, via);
    const handle = await start(client, dumpPlan('cancel-mongo', '{initial_interval: 500ms}'), site);
    const id = await heldMidUpload('cancel-mongo', via);
    await handle.cancel();
    // Still held: the step ends on the cancel alone, never by finishing a dump it could not finish.
    const status = await finalStatus(handle);
    const base = join(root, 'cancel-mongo', 'mongodb');
    expect(existsSync(join(base, id))).toBe(false);
    expect(existsSync(base) ? readdirSync(base) : []).toEqual([]);
    expect(status.state).toBe('cancelled');
    expect(stepOf(status, 'dump').status).toBe('cancelled');
    // The worker let go of its connections (and the cursors on them) without waiting on the held replies.
    await expect.poll(() => via.connections(), { timeout: 10_000 }).toBe(0);
    via.release();
  });
});
