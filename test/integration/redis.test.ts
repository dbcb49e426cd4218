// redis.snapshot/redis.restore against a real Redis 7 (Debian): RDB round trips by content, wrong password, server down, corruption.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { redisRestoreImpl } from '../../activities/redis/restore.ts';
import { redisSnapshotImpl } from '../../activities/redis/snapshot.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import { startRedis, type RedisServer } from '../../stack/redis.ts';
import { failureOf } from '../helpers/failure.ts';

let redis: RedisServer;
let dir: string;
let storage: string;

/** 20,000 strings, and one key of every other type, some with a TTL far ahead. */
function seed(server: RedisServer): void {
  server.cli(['EVAL', "for i=1,20000 do redis.call('SET','k:'..i, string.rep('v', i % 64)) end return 1", '0']);
  server.cli(['HSET', 'user:1', 'name', 'Zoë', 'city', '東京']);
  server.cli(['RPUSH', 'queue', 'a', 'b', 'c']);
  server.cli(['SADD', 'tags', 'x', 'y']);
  server.cli(['ZADD', 'board', '1', 'ann', '2.5', 'bob']);
  server.cli(['XADD', 'events', '1-1', 'type', 'created']);
  server.cli(['SET', 'session', 'live', 'EX', '86400']);
}

beforeAll(async () => {
  redis = await startRedis({ log: (line) => console.log(`[redis] ${line}`) });
  seed(redis);
  dir = mkdtempSync(join(tmpdir(), 'rebound-redis-test-'));
  storage = `file://${join(dir, 'store')}`;
  process.env.REDIS_TEST_URL = redis.url();
  process.env.REDIS_TEST_WRONG = redis.url('not-the-password');
}, 300_000); // the first run installs redis-server from Debian

afterAll(async () => {
  await redis?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'nightly-backup',
  step: 'snapshot-cache',
  with: () => ({ storage: { url: storage } }),
  secrets: { redis: { env: 'REDIS_TEST_URL' }, wrong: { env: 'REDIS_TEST_WRONG' } },
});

const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });

describe('redis.snapshot and redis.restore on Redis 7', () => {
  it(
    'snapshots through the replication protocol and a scratch server loads every key; a placed file restarts a server with the same content',
    { timeout: 120_000 },
    async () => {
      const snap = await run(redisSnapshotImpl, { source: { $secret: 'redis' }, service: 'cache' });
      expect(snap.outputs).toMatchObject({ service: 'cache', keys: 20_006 });
      const point = await points().find(snap.outputs.restore_point_id as string);
      expect(point.server_version).toMatch(/^7\./);
      expect(JSON.stringify(point)).not.toContain(redis.password);

      const scratch = await run(redisRestoreImpl, { restore_point: point.id, keys: ['user:1', 'events', 'session', 'k:20000'] });
      expect(scratch.outputs).toMatchObject({ mode: 'scratch', keys: 20_006, path: null });

      // Placed as a dump file, a server started on it holds the same values, types and TTLs.
      const file = join(dir, 'restored', 'dump.rdb');
      mkdirSync(join(dir, 'restored'));
      const placed = await run(redisRestoreImpl, { restore_point: point.id, mode: 'place', path: file });
      expect(placed.outputs).toMatchObject({ mode: 'place', path: file, keys: null });
      const server = spawn('redis-server', ['--port', String(redis.port + 1), '--bind', '127.0.0.1', '--dir', join(dir, 'restored'), '--save', '']);
      try {
        const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port + 1), ...args], { encoding: 'utf8' }).stdout.trim();
        // Loading the placed file can take a while on a loaded machine: a deadline, not a count of tries.
        const deadline = Date.now() + 60_000;
        while (cli('PING') !== 'PONG' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(cli('DBSIZE')).toBe('20006');
        expect(cli('HGET', 'user:1', 'city')).toBe('東京');
        expect(cli('LRANGE', 'queue', '0', '-1')).toBe('a\nb\nc');
        expect(cli('ZSCORE', 'board', 'bob')).toBe('2.5');
        expect(cli('XLEN', 'events')).toBe('1');
        expect(cli('GET', 'k:63')).toBe('v'.repeat(63));
        expect(Number(cli('TTL', 'session'))).toBeGreaterThan(80_000);
      } finally {
        server.kill('SIGTERM');
      }
    },
  );

  it('a wrong password fails without retry, says so, and leaves no restore point', async () => {
    const failure = await failureOf(run(redisSnapshotImpl, { source: { $secret: 'wrong' }, service: 'cache-denied' }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('redis: step "snapshot-cache": redis-cli INFO: NOAUTH Authentication required. (check the password in the secret)');
    expect(failure.message).not.toContain('not-the-password');
    expect(await points().scan('cache-denied')).toEqual([]);
  });

  it('a server that is down fails with a retry verdict, leaving nothing behind', async () => {
    await redis.stop();
    try {
      const failure = await failureOf(run(redisSnapshotImpl, { source: { $secret: 'redis' }, service: 'cache-down' }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/Connection refused.*will retry \(attempt 1 of 3\)/);
      expect(await points().scan('cache-down')).toEqual([]);
    } finally {
      await redis.start();
      seed(redis);
    }
  });

  it('a flipped byte in the stored RDB is refused without retry, and no scratch server is started on it', async () => {
    const snap = await run(redisSnapshotImpl, { source: { $secret: 'redis' }, service: 'cache-corrupt' });
    const p = points();
    const point = await p.find(snap.outputs.restore_point_id as string);
    const file = new URL(`${storage}/${p.keyOf(point)}`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const failure = await failureOf(run(redisRestoreImpl, { restore_point: point.id }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('verification_failed');
    expect(failure.message).toContain('the manifest says');
  });

  it('min_keys above what the RDB holds fails the scratch restore', async () => {
    const snap = await run(redisSnapshotImpl, { source: { $secret: 'redis' }, service: 'cache-min' });
    const failure = await failureOf(run(redisRestoreImpl, { restore_point: snap.outputs.restore_point_id, min_keys: 30_000 }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('the restored RDB holds 20006 keys; expected at least 30000');
  });

  it('backup.verify loads a point in a scratch server and marks it verified; a missing key marks it failed', { timeout: 60_000 }, async () => {
    const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
    const snap = await run(redisSnapshotImpl, { source: { $secret: 'redis' }, service: 'cache-verify' });
    const ok = await run(verify, { restore_point: snap.outputs.restore_point_id, checks: { tables: ['user:1'] } });
    expect(ok.outputs).toMatchObject({ status: 'verified' });
    expect((await points().find(snap.outputs.restore_point_id as string)).status).toBe('verified');
    const failure = await failureOf(run(verify, { restore_point: snap.outputs.restore_point_id, checks: { tables: ['no-such-key'] } }));
    expect(failure.message).toContain('redis: step "snapshot-cache": restore point');
    expect(failure.message).toContain('failed verification: restore: the restored RDB lacks no-such-key');
    expect((await points().find(snap.outputs.restore_point_id as string)).status).toBe('failed');
  });
});
