// redis.replication and redis.promote on two real Redis 7 servers streaming on loopback: lag read on both, a drill's preflight, promotion under writes, refusal on a master, retries, reprotect through failback, no password in argv or logs.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActionResult } from '../../contract/run.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisPromoteImpl } from '../../activities/redis/promote.ts';
import { redisReplicationImpl } from '../../activities/redis/replication.ts';
import { buildFailback } from '../../client/failback.ts';
import { compile } from '../../compiler/index.ts';
import { redisPromote } from '../../contract/actions/redis-replication.ts';
import { startRedis, type RedisServer } from '../../stack/redis.ts';
import { stepRunner, type ActionImpl } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { startWriter } from '../helpers/redis-writer.ts';

// Every process the actions spawn, with its argv and the names of its environment variables.
const spawned = vi.hoisted(() => [] as Array<{ command: string; args: string[]; env: string[] }>);
vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:child_process')>();
  const spawn = (command: string, args: string[], options: { env?: NodeJS.ProcessEnv }) => {
    spawned.push({ command, args: [...args], env: Object.keys(options?.env ?? {}) });
    return real.spawn(command, args, options);
  };
  return { ...real, spawn };
});

let a: RedisServer; // the master, then the old master that is reprotected
let b: RedisServer; // the replica that is promoted
const texts: string[] = []; // every log line, output and failure message, searched for passwords at the end

const info = (s: RedisServer, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(s.cli(['INFO', 'replication']))?.[1]?.trim();
const replicaofCalls = (s: RedisServer) => Number(/cmdstat_replicaof:calls=(\d+)/.exec(s.cli(['INFO', 'commandstats']))?.[1] ?? 0);
const addr = (s: RedisServer) => `127.0.0.1:${s.port}`;

beforeAll(async () => {
  a = await startRedis({ log: (line) => console.log(`[redis] ${line}`) });
  a.cli(['CONFIG', 'SET', 'repl-diskless-sync-delay', '0']);
  b = await startRedis({ replicaOf: a });
  b.cli(['CONFIG', 'SET', 'repl-diskless-sync-delay', '0']); // it serves the old master after the promotion
  process.env.REDIS_REPL_A = a.url();
  process.env.REDIS_REPL_B = b.url();
  await vi.waitFor(() => expect(info(b, 'master_link_status')).toBe('up'), { timeout: 60_000, interval: 100 });
}, 300_000);

afterAll(async () => {
  await b?.destroy();
  await a?.destroy();
});

const { run: runStep } = stepRunner({
  runbook: 'cache-failover',
  step: 'promote',
  runId: 'run-promote',
  secrets: { a: { env: 'REDIS_REPL_A' }, b: { env: 'REDIS_REPL_B' } },
  onResult: (result) => texts.push(JSON.stringify(result)),
});

/** An environment whose log lines are kept, at `attempt`, from `heartbeatDetails`. */
function env(attempt = 1, heartbeatDetails?: unknown): MockActivityEnvironment {
  const logger = new DefaultLogger('DEBUG', (entry) => texts.push(`${entry.message} ${JSON.stringify(entry.meta ?? {})}`));
  return new MockActivityEnvironment({ attempt, ...(heartbeatDetails === undefined ? {} : { heartbeatDetails }) }, { logger });
}
const run = (impl: ActionImpl, w: Record<string, unknown>, e = env(), simulate = false): Promise<ActionResult> => runStep(impl, w, { env: e, simulate });
const failed = async (promise: Promise<unknown>) => failureOf(promise, (f) => texts.push(f.message));

const A = { $secret: 'a' };
const B = { $secret: 'b' };
const RUNBOOK = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: cache-failover}
spec:
  secrets: {a: {env: REDIS_REPL_A}, b: {env: REDIS_REPL_B}}
  steps:
    - {id: promote, uses: redis.promote, with: {server: "\${{ secrets.b }}", primary: "\${{ secrets.a }}", max_lag: 30s}}
`;

describe('Redis replication, promotion and reprotect on two Redis 7 servers', () => {
  it('reads replication on both: the master lists its replica, the replica its link and its lag against the master', async () => {
    a.cli(['SET', 'seed', '1']);
    const master = await run(redisReplicationImpl, { server: A, max_lag: '60s' });
    expect(master.outputs).toMatchObject({ role: 'master', address: addr(a), master: null, replicas: [{ address: addr(b), state: 'online' }] });
    expect(['in_sync', 'catch_up']).toContain(master.outputs.lag_method);

    const replica = await run(redisReplicationImpl, { server: B, primary: A, service: 'cache', max_lag: '30s', max_lag_bytes: 1 << 20 });
    expect(replica.outputs).toMatchObject({ service: 'cache', role: 'replica', replicas: [], master: { address: addr(a), link_status: 'up' } });
    expect(['in_sync', 'catch_up']).toContain(replica.outputs.lag_method);
    expect(replica.outputs.lag_bytes).toBeGreaterThanOrEqual(0);
    expect(replica.outputs.rpo_seconds).toBe(replica.outputs.lag_seconds);
    expect(replica.outputs).toMatchObject({ rpo_ms: Math.round((replica.outputs.rpo_seconds as number) * 1000), rpo_method: 'replica lag' });

    // Without the master's offset, the bound INFO gives: seconds since the replica last heard from it.
    const bound = await run(redisReplicationImpl, { server: B });
    expect(bound.outputs).toMatchObject({ lag_bytes: null, lag_seconds: null, lag_method: 'last_io', master_offset: null });
    expect(bound.outputs.rpo_seconds).toBeGreaterThanOrEqual(0);
    const unmeasurable = await failed(run(redisReplicationImpl, { server: B, max_lag_bytes: 0 }));
    expect(unmeasurable).toMatchObject({ type: 'check_failed' });
    expect(unmeasurable.message).toContain('the lag cannot be measured in bytes here');
  });

  it('fails past max_lag_bytes and max_lag while the replica is stopped and the master takes a write', async () => {
    process.kill(b.pid()!, 'SIGSTOP');
    try {
      a.cli(['SET', 'while-stopped', '1']); // the stopped replica cannot have acknowledged this
      const bytes = await failed(run(redisReplicationImpl, { server: A, max_lag_bytes: 0, max_lag: '2s' }));
      expect(bytes).toMatchObject({ type: 'check_failed', nonRetryable: false });
      expect(bytes.message).toMatch(/replication lag \d+ bytes is past max_lag_bytes 0/);
      const seconds = await failed(run(redisReplicationImpl, { server: A, max_lag: '1s' }));
      expect(seconds.message).toContain('not caught up with the master offset within 1s (at least that) is past max_lag 1s');
    } finally {
      process.kill(b.pid()!, 'SIGCONT');
    }
    await expect.poll(() => b.cli(['GET', 'while-stopped']).trim(), { timeout: 60_000 }).toBe('1');
  });

  it('refuses to promote a master, not retried, changing nothing', async () => {
    const failure = await failed(run(redisPromoteImpl, { server: A }));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(failure.message).toContain(`${addr(a)} is a master, not a replica: nothing to promote`);
    expect(replicaofCalls(a)).toBe(0);
    expect(info(a, 'role')).toBe('master');
  });

  it('a drill compiles to a preflight that proves the promotion possible and changes nothing', async () => {
    const drill = compile(RUNBOOK, { file: 'cache-failover.yaml', mode: 'drill' }).plan!;
    expect(drill.steps[0]).toMatchObject({ uses: 'redis.promote', execution: 'simulate' });
    const { outputs } = await run(redisPromoteImpl, { server: B, primary: A, max_lag: '30s' }, env(), true);
    expect(outputs).toMatchObject({ simulated: true, changed: true, promoted_at: null, previous_master: addr(a), current: { role: 'master' } });
    expect((outputs.preflight as string[]).at(-1)).toBe(`would run REPLICAOF NO ONE on ${addr(b)}, which then stops following ${addr(a)}`);
    expect(info(b, 'role')).toBe('slave');
    expect(replicaofCalls(b)).toBe(0);
  });

  let promoted: ActionResult;
  let heartbeat: unknown;

  it(
    'promotes the replica while writes run: lag measured, every key up to the measured offset there, the promoted side writable',
    { timeout: 120_000 },
    async () => {
      const writer = await startWriter(a.port, a.password);
      try {
        // The replica holds w:100, so its offset is past where w:99 ended: some keys fall before the measured point.
        await expect.poll(() => b.cli(['EXISTS', 'w:100']).trim(), { timeout: 60_000 }).toBe('1');
        const first = env();
        first.on('heartbeat', (details) => (heartbeat = details));
        promoted = await run(redisPromoteImpl, { server: B, primary: A, max_lag: '30s' }, first);
      } finally {
        await writer.stop();
      }
      const o = promoted.outputs;
      expect(o).toMatchObject({ operation: 'promote', address: addr(b), changed: true, simulated: false, previous_master: addr(a) });
      expect(o).toMatchObject({ previous: { role: 'replica', master: addr(a) }, current: { role: 'master', master: null } });
      expect(['in_sync', 'catch_up']).toContain(o.lag_method);
      expect(o).toMatchObject({ rpo_ms: Math.round((o.rpo_seconds as number) * 1000), rpo_method: 'replica lag at promotion' });
      expect(o.lag_bytes).toBeGreaterThanOrEqual(0);
      expect(typeof o.promoted_at).toBe('string');
      expect(info(b, 'role')).toBe('master');
      expect(b.cli(['SET', 'written-on-b', 'yes']).trim()).toBe('OK');

      const covered = writer.offsets.filter((offset) => offset <= (o.replica_offset as number)).length;
      expect(covered).toBeGreaterThanOrEqual(100);
      const missing = b.cli(['EVAL', "local m=0 for i=0,tonumber(ARGV[1]) do m=m+(1-redis.call('EXISTS','w:'..i)) end return m", '0', String(covered - 1)]);
      expect(missing.trim()).toBe('0');
    },
  );

  it('a retry after the promotion succeeds without a second REPLICAOF, from the heartbeat or the server; a first attempt is refused', async () => {
    expect(replicaofCalls(b)).toBe(1);
    const fromHeartbeat = await run(redisPromoteImpl, { server: B, primary: A, max_lag: '30s' }, env(2, heartbeat));
    expect(fromHeartbeat.outputs).toEqual(promoted.outputs);
    // Heartbeats are throttled: a retry may find no record, and then takes the server's own account.
    const fromServer = await run(redisPromoteImpl, { server: B, primary: A }, env(2));
    expect(fromServer.outputs).toMatchObject({ changed: true, previous_master: addr(a), lag_method: 'unknown', promoted_at: null });
    expect(fromServer.outputs.replica_offset).toBeGreaterThanOrEqual(promoted.outputs.replica_offset as number);
    const again = await failed(run(redisPromoteImpl, { server: B, primary: A }, env(1)));
    expect(again).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(replicaofCalls(b)).toBe(1);
  });

  it(
    'failback lists the reprotect; it makes the old master follow the new one, discarding what it took after the promotion',
    { timeout: 120_000 },
    async () => {
      a.cli(['SET', 'after-promotion', 'split-brain']); // the old master diverges
      const plan = compile(RUNBOOK, { file: 'cache-failover.yaml' }).plan!;
      const at = new Date().toISOString();
      const step = { id: 'promote', uses: 'redis.promote', phase: 'main', execution: 'run', status: 'succeeded', attempt: 1, started_at: at, ended_at: at };
      const status = {
        runbook: plan.name,
        plan_hash: plan.hash,
        mode: 'run',
        state: 'succeeded',
        started_at: at,
        ended_at: at,
        steps: [{ ...step, outputs: promoted.outputs, continue_on_error: false }],
      } as const;
      const record = { workflowId: 'cache-failover-1', plan, status, inputs: { promote: { server: B, primary: A, max_lag: '30s' } } };
      const { plan: failback, items } = buildFailback(record as unknown as Parameters<typeof buildFailback>[0], { mode: 'run' });
      expect(items).toMatchObject([{ step: 'promote', action: 'revert', failback_step: 'revert-promote' }]);
      const revert = failback.steps[0]!;
      expect(revert).toMatchObject({ uses: 'redis.promote', with: { operation: 'reprotect', server: B, primary: A, expect_current: { role: 'master' } } });
      expect(revert.with).toEqual(redisPromote.revert!(record.inputs.promote, promoted.outputs));

      const { outputs } = await run(redisPromoteImpl, revert.with as Record<string, unknown>);
      expect(outputs).toMatchObject({
        operation: 'reprotect',
        address: addr(a),
        changed: true,
        previous: { role: 'master' },
        current: { role: 'replica', master: addr(b) },
      });
      expect(outputs.diverged_bytes).toBeGreaterThan(0);
      expect(info(a, 'role')).toBe('slave');
      expect(info(a, 'master_link_status')).toBe('up');
      b.cli(['SET', 'reprotected', 'yes']);
      await expect.poll(() => a.cli(['GET', 'reprotected']).trim(), { timeout: 60_000 }).toBe('yes');
      expect(a.cli(['GET', 'written-on-b']).trim()).toBe('yes');
      expect(a.cli(['EXISTS', 'after-promotion']).trim()).toBe('0');

      // Run again (a retry): it follows already, so nothing is sent a second time.
      const again = await run(redisPromoteImpl, revert.with as Record<string, unknown>);
      expect(again.outputs).toMatchObject({ changed: false, current: { role: 'replica', master: addr(b) } });
      expect(replicaofCalls(a)).toBe(1);
    },
  );

  it('no password is in any argv, log line, output or failure; masterauth went through stdin', () => {
    const cli = spawned.filter((s) => s.command === 'redis-cli');
    expect(cli.length).toBeGreaterThan(10);
    for (const { args, env: names } of cli) {
      expect(args.join(' ')).not.toContain(a.password);
      expect(args.join(' ')).not.toContain(b.password);
      expect(names).toContain('REDISCLI_AUTH');
    }
    expect(cli.some((s) => s.args.slice(-4).join(' ') === '-x CONFIG SET masterauth')).toBe(true);
    const all = texts.join('\n');
    expect(texts.length).toBeGreaterThan(10);
    expect(all).not.toContain(a.password);
    expect(all).not.toContain(b.password);
  });
});
