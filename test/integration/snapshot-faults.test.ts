// A worker SIGKILLed while redis.snapshot or etcd.snapshot streams (held unfinished by a relay): another worker retries the step into exactly one complete restore point, nothing beside it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openRestorePoints, type RestorePoint } from '../../activities/restore-points/index.ts';
import { finalStatus } from '../../client/runs.ts';
import { startEtcd, type EtcdServer } from '../../stack/etcd.ts';
import { startRedis, type RedisServer } from '../../stack/redis.ts';
import { childrenNamed, exitsWithin } from '../helpers/tool-processes.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { startTogether } from '../helpers/servers.ts';

let redis: RedisServer;
let etcd: EtcdServer;
let client: Client;
const workers: WorkerProcess[] = [];
const relays: TcpRelay[] = [];
const root = mkdtempSync(join(tmpdir(), 'rebound-snapshot-faults-'));

/** ~120 MB of incompressible values in etcd, put through its HTTP gateway as root. */
async function fillEtcd(): Promise<void> {
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(new URL(path, etcd.endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { token?: string };
  };
  const { token } = await post('/v3/auth/authenticate', { name: 'root', password: etcd.password });
  for (let batch = 0; batch < 40; batch++)
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        post('/v3/kv/put', { key: Buffer.from(`/blobs/${batch * 4 + i}`).toString('base64'), value: randomBytes(750_000).toString('base64') }, token),
      ),
    );
}

beforeAll(async () => {
  [redis, etcd] = await startTogether(startRedis(), startEtcd());
  // 300k keys of 200 bytes that do not compress, sent 20 µs apart by the forked saver: a stream of ~60 MB that lasts seconds.
  redis.cli(['CONFIG', 'SET', 'rdbcompression', 'no']);
  redis.cli(['EVAL', "for i = 1, 300000 do redis.call('SET', 'k:' .. i, string.rep('v', 200)) end", '0']);
  redis.cli(['CONFIG', 'SET', 'repl-diskless-sync-delay', '0']);
  redis.cli(['CONFIG', 'SET', 'rdb-key-save-delay', '20']);
  await fillEtcd();
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  for (const r of relays) await r.close();
  await redis?.destroy();
  await etcd?.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** A relay in front of `port` that holds its replies after `bytes`: the stream cannot finish until release(). */
async function relay(port: number, bytes: number): Promise<TcpRelay> {
  const r = await startTcpRelay(port);
  relays.push(r);
  r.holdAfter(bytes);
  return r;
}

/** A worker on `site` whose Redis secret reaches Redis through `via`. */
function worker(site: string, via: TcpRelay): Promise<WorkerProcess> {
  return startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { FAULT_REDIS: redis.url().replace(`127.0.0.1:${redis.port}`, `127.0.0.1:${via.port}`), FAULT_ETCD_PW: etcd.password },
  }).then((w) => {
    workers.push(w);
    return w;
  });
}

// 5 s, not less: on a loaded machine a late heartbeat would start a second attempt beside a live first one.
const plan = (service: string, storage: string, uses: string, etcdEndpoint: string) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${service}}\nspec:
  secrets: {redis: {env: FAULT_REDIS}, etcd_pw: {env: FAULT_ETCD_PW}}
  steps:
    - id: snap
      uses: ${uses}
      heartbeat_timeout: 5s
      retry: {initial_interval: 500ms}
      with: {service: ${service}, storage: {url: "file://${storage}"}, ${
        uses === 'redis.snapshot' ? 'source: "${{ secrets.redis }}"' : `endpoint: "${etcdEndpoint}", auth: {user: root, password: "\${{ secrets.etcd_pw }}"}`
      }}
`);

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

/** Waits until `via` holds the stream back, the step has heartbeated and its object holds `minBytes`: under way, and unfinished until release(). */
async function midStream(handle: WorkflowHandle, via: TcpRelay, storage: string, minBytes: number): Promise<string> {
  await via.held();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const beat = pending.some((a) => a.heartbeatDetails?.payloads?.length);
    const data = existsSync(storage) ? filesUnder(storage).find((f) => !f.endsWith('.json') && statSync(join(storage, f)).size >= minBytes) : undefined;
    if (beat && data) return data;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no snapshot stream under way in ${storage}`);
}

/** Exactly one restore point of the service, its object re-hashing to the manifest's sha256, and no other file in storage. */
async function onlyPoint(storage: string, service: string): Promise<{ point: RestorePoint; key: string }> {
  const points = openRestorePoints({ url: `file://${storage}`, region: 'us-east-1', force_path_style: true });
  const found = await points.scan(service);
  expect(found).toHaveLength(1);
  const point = found[0]!;
  const data = readFileSync(join(storage, points.keyOf(point)));
  expect(data.length).toBe(point.size);
  expect(createHash('sha256').update(data).digest('hex')).toBe(point.sha256);
  expect(filesUnder(storage)).toEqual([points.keyOf(point), points.keyOf(point, 'manifest.json')].sort());
  return { point, key: points.keyOf(point) };
}

describe('a worker SIGKILLed mid-snapshot', { timeout: 300_000 }, () => {
  // Each stream is held after a tenth or so of its size (~60 MB from Redis, ~120 MB from etcd).
  for (const [uses, minSize, holdAfter] of [
    ['redis.snapshot', 50_000_000, 8_000_000],
    ['etcd.snapshot', 100_000_000, 16_000_000],
  ] as const) {
    it(`${uses}: a new worker retries the step into exactly one restore point that re-hashes, with no partial object beside it`, async () => {
      const service = `crash-${uses.split('.')[0]}`;
      const storage = join(root, service);
      const site = uniqueSite(service);
      const via = await relay(uses === 'redis.snapshot' ? redis.port : Number(new URL(etcd.endpoint).port), holdAfter);
      const first = await worker(site, via);
      const handle = await start(client, plan(service, storage, uses, `http://127.0.0.1:${via.port}`), site);
      const partial = await midStream(handle, via, storage, 2_000_000);
      const tools = childrenNamed(first.child.pid!, 'redis-cli');
      if (uses === 'redis.snapshot') expect(tools).toHaveLength(1);
      await first.kill('SIGKILL');
      via.release();
      // redis-cli does not outlive the worker: the pipe it writes the RDB into is gone.
      for (const pid of tools) expect(await exitsWithin(pid)).toBe(true);
      // The killed attempt left a partial object and no manifest.
      expect(filesUnder(storage)).toEqual([partial]);
      await worker(site, via);
      const status = await finalStatus(handle);
      expect(status.state).toBe('succeeded');
      const { point, key } = await onlyPoint(storage, service);
      // The retry wrote to the same place: the partial object was replaced, not left beside the point.
      expect(partial).toBe(key);
      expect(point.size).toBeGreaterThan(minSize);
      expect(stepOf(status, 'snap').attempt).toBeGreaterThanOrEqual(2);
    });
  }
});
