// P8: the streamed snapshots (redis.snapshot, etcd.snapshot) into a file store vs the bare tool writing the same snapshot, same servers, alternating.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { etcdSnapshotImpl } from '../activities/etcd/snapshot.ts';
import { redisSnapshotImpl } from '../activities/redis/snapshot.ts';
import { toActivity, type ActionImpl } from '../test/helpers/activity.ts';
import type { ActionInput } from '../contract/run.ts';
import { startEtcd } from '../stack/etcd.ts';
import { startRedis } from '../stack/redis.ts';
import { median, type Row } from './report.ts';

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${command} exited ${code}: ${err.slice(-500)}`))));
  });
}

let runs = 0;
async function viaRebound(impl: ActionImpl, w: Record<string, unknown>, store: string): Promise<{ ms: number; bytes: number }> {
  const input: ActionInput = {
    runbook: 'p8',
    run_id: `p8-${process.pid}-${++runs}`,
    step: 'snapshot',
    backend: impl.spec.backend,
    simulate: false,
    max_attempts: 1,
    with: { ...w, storage: { url: `file://${store}` } },
    secrets: { pw: { env: 'BENCH_P8_PASSWORD' }, url: { env: 'BENCH_P8_REDIS' } },
  };
  const t = performance.now();
  const result = (await new MockActivityEnvironment().run(toActivity(impl), input)) as { outputs: Record<string, unknown> };
  return { ms: performance.now() - t, bytes: Number(result.outputs.size) };
}

async function rounds(label: string, count: number, bare: () => Promise<number>, rebound: () => Promise<{ ms: number; bytes: number }>) {
  const bareMs: number[] = [];
  const reboundMs: number[] = [];
  let bytes = 0;
  for (let round = 0; round < count; round++) {
    const order = [() => bare().then((t) => bareMs.push(t)), () => rebound().then((r) => (reboundMs.push(r.ms), (bytes = r.bytes)))];
    for (let i = 0; i < order.length; i++) await order[(i + round) % order.length]!();
    console.error(`P8 ${label} round ${round + 1}/${count}: bare ${bareMs.at(-1)!.toFixed(0)} ms, Rebound ${reboundMs.at(-1)!.toFixed(0)} ms`);
  }
  return { bareMs, reboundMs, bytes, ratio: median(bareMs) / median(reboundMs) };
}

async function redisBench(count: number, mb: number, work: string) {
  const redis = await startRedis();
  try {
    // Values of hex digests: incompressible enough that the RDB stays near the data's size.
    const keys = Math.ceil((mb * 1024 * 1024) / 1024);
    for (let done = 0; done < keys; done += 50_000)
      redis.cli([
        'EVAL',
        "local v = '' for j=1,16 do v = v .. redis.sha1hex(ARGV[1] .. j) end for i=tonumber(ARGV[1]),tonumber(ARGV[2]) do redis.call('SET','k:'..i, v .. i) end return 1",
        '0',
        String(done),
        String(Math.min(keys, done + 50_000) - 1),
      ]);
    process.env.BENCH_P8_REDIS = redis.url();
    return await rounds(
      'redis',
      count,
      // To stdout, which is /dev/null here: redis-cli cannot fsync /dev/null as a file.
      () => timed('redis-cli', ['-p', String(redis.port), '--rdb', '-'], { REDISCLI_AUTH: redis.password }),
      () => viaRebound(redisSnapshotImpl, { source: { $secret: 'url' }, service: 'bench-redis' }, join(work, 'redis-store')),
    );
  } finally {
    await redis.destroy();
  }
}

async function etcdBench(count: number, mb: number, work: string) {
  const etcd = await startEtcd();
  try {
    const { token } = (await (
      await fetch(`${etcd.endpoint}/v3/auth/authenticate`, { method: 'POST', body: JSON.stringify({ name: 'root', password: etcd.password }) })
    ).json()) as {
      token: string;
    };
    const keys = Math.ceil((mb * 1024 * 1024) / 1024);
    let next = 0;
    const value = Buffer.from('x'.repeat(1000)).toString('base64');
    const lane = async () => {
      while (next < keys) {
        const key = Buffer.from(`/bench/${next++}`).toString('base64');
        await fetch(`${etcd.endpoint}/v3/kv/put`, { method: 'POST', headers: { authorization: token }, body: JSON.stringify({ key, value }) });
      }
    };
    await Promise.all(Array.from({ length: 32 }, lane));
    process.env.BENCH_P8_PASSWORD = etcd.password;
    const file = join(work, 'etcdctl-snapshot.db');
    return await rounds(
      'etcd',
      count,
      () => timed('etcdctl', [`--endpoints=${etcd.endpoint}`, `--user=root:${etcd.password}`, 'snapshot', 'save', file], { ETCDCTL_API: '3' }),
      () =>
        viaRebound(
          etcdSnapshotImpl,
          { endpoint: etcd.endpoint, auth: { user: 'root', password: { $secret: 'pw' } }, service: 'bench-etcd' },
          join(work, 'etcd-store'),
        ),
    );
  } finally {
    await etcd.destroy();
  }
}

export async function p8(results: Record<string, unknown>): Promise<Row[]> {
  const count = Number(process.env.BENCH_P8_ROUNDS ?? 3);
  const redisMb = Number(process.env.BENCH_P8_REDIS_MB ?? 512);
  const etcdMb = Number(process.env.BENCH_P8_ETCD_MB ?? 64);
  const work = mkdtempSync(join(tmpdir(), 'rebound-p8-'));
  try {
    const redis = await redisBench(count, redisMb, work);
    const etcd = await etcdBench(count, etcdMb, work);
    results.p8 = { redis, etcd };
    const row = (name: string, r: typeof redis, bare: string): Row => ({
      id: 'P8',
      what: `${name} → file store vs ${bare}, ${(r.bytes / 2 ** 20).toFixed(0)} MB snapshot (median of ${count})`,
      value: `${r.ratio.toFixed(3)}× throughput (${median(r.reboundMs).toFixed(0)} vs ${median(r.bareMs).toFixed(0)} ms)`,
      goal: '≥ 0.90×',
      met: r.ratio >= 0.9,
    });
    return [row('redis.snapshot', redis, 'redis-cli --rdb - > /dev/null'), row('etcd.snapshot', etcd, 'etcdctl snapshot save')];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
