// `tool:` of mongodb.dump / mongodb.restore on a worker without the MongoDB Database Tools: auto falls back to the driver and says so; mongodump fails at once, clearly.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { findOnPath } from '../../activities/mongodb/database-tools.ts';
import { DRIVER_TOOL } from '../../activities/mongodb/dump.ts';
import { startFerretDb, type FerretDbServer } from '../../stack/ferretdb.ts';
import { connect, planOf, runToEnd, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let ferret: FerretDbServer;
let worker: WorkerProcess;
let client: Client;
let mongo: MongoClient;
const site = uniqueSite('mongo-tool');
const root = mkdtempSync(join(tmpdir(), 'rebound-mongo-tool-'));
const storage = `{url: "file://${root}"}`;
const DRIVER_VERSION = (createRequire(import.meta.url)('mongodb/package.json') as { version: string }).version;

const runbook = (name: string, steps: string) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:\n  secrets: {app: {env: TOOL_MONGO}}\n  steps:\n${steps}`);
const dump = (service: string, tool: string) =>
  `    - {id: dump, uses: mongodb.dump, retry: {max_attempts: 3}, with: {source: "\${{ secrets.app }}", service: ${service}, include: ["tl.*"], tool: ${tool}, storage: ${storage}}}\n`;
const restore = (tool: string) => `    - id: restore
      uses: mongodb.restore
      retry: {max_attempts: 3}
      with: {restore_point: "\${{ steps.dump.outputs.restore_point_id }}", target: "\${{ secrets.app }}", namespace: {from: "tl.*", to: "tl_copy.*"}, tool: ${tool}, storage: ${storage}}
`;

beforeAll(async () => {
  ferret = await startFerretDb();
  mongo = await MongoClient.connect(ferret.url());
  await mongo
    .db('tl')
    .collection<{ _id: number; n: string }>('items')
    .insertMany(Array.from({ length: 25 }, (_, i) => ({ _id: i, n: `item ${i}` })));
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { TOOL_MONGO: ferret.url() },
  });
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  await mongo?.close();
  await worker?.kill();
  await ferret?.destroy();
});

describe('tool: on a worker without mongodump and mongorestore', () => {
  it('this machine has neither binary on PATH (the worker inherits this PATH)', () => {
    expect(findOnPath('mongodump', process.env.PATH), 'mongodump is on PATH: these tests expect a worker without it').toBeUndefined();
    expect(findOnPath('mongorestore', process.env.PATH), 'mongorestore is on PATH: these tests expect a worker without it').toBeUndefined();
  });

  it('auto dumps and restores with the driver, records it in the manifest and the outputs, and logs why', async () => {
    const status = await runToEnd(client, runbook('auto', dump('auto-mongo', 'auto') + restore('auto')), site);
    expect(status.error).toBeUndefined();
    expect(stepOf(status, 'dump').outputs).toMatchObject({ tool: 'driver', collections: 1, documents: 25 });
    expect(stepOf(status, 'restore').outputs).toMatchObject({ tool: 'driver', collections: 1, documents: 25, duplicates: 0 });
    const id = String(stepOf(status, 'dump').outputs!.restore_point_id);
    const manifest = JSON.parse(readFileSync(join(root, 'auto-mongo', 'mongodb', id, 'manifest.json'), 'utf8'));
    expect(manifest.tool).toEqual({ name: DRIVER_TOOL, version: DRIVER_VERSION });
    expect(manifest.objects.map((o: { name: string }) => o.name)).toEqual(['tl/items.bson.gz', 'tl/items.metadata.json.gz']);
    expect(await mongo.db('tl_copy').collection('items').countDocuments()).toBe(25);
    expect(worker.output()).toContain('tool: auto uses the driver (no mongodump on PATH)');
    expect(worker.output()).toMatch(/restored 1 collections, 25 documents from \S+ with the driver \(no mongorestore on PATH\)/);
  });

  it('mongodump fails on the first attempt without retry, naming the binary and tool: driver, and writes nothing', async () => {
    const status = await runToEnd(client, runbook('bin-dump', dump('bin-mongo', 'mongodump')), site);
    expect(status.state).toBe('failed');
    const step = stepOf(status, 'dump');
    expect(step.attempt).toBe(1);
    expect(step.reason).toMatch(/^mongodb: step "dump": tool: mongodump needs the MongoDB Database Tools' mongodump on the worker/);
    expect(step.reason).toContain('no executable mongodump is on its PATH');
    expect(step.reason).toContain('or use tool: driver');
    expect(step.reason).toContain('not retryable (attempt 1)');
    expect(existsSync(join(root, 'bin-mongo'))).toBe(false);
  });

  it('a restore with tool: mongodump fails the same way, naming mongorestore, and leaves the target alone', async () => {
    const status = await runToEnd(
      client,
      runbook('bin-restore', dump('bin-restore-mongo', 'driver') + restore('mongodump').replace(/tl_copy/g, 'tl_never')),
      site,
    );
    expect(stepOf(status, 'dump').outputs).toMatchObject({ tool: 'driver' });
    const step = stepOf(status, 'restore');
    expect(step.attempt).toBe(1);
    expect(step.reason).toContain("tool: mongodump needs the MongoDB Database Tools' mongorestore");
    expect(step.reason).toContain('or use tool: driver');
    expect(step.reason).toContain('not retryable (attempt 1)');
    const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
    expect(databases.map((d) => d.name)).not.toContain('tl_never');
  });
});
