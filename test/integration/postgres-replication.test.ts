// postgres.replication, postgres.promote and postgres.reprotect on two PostgreSQL 15 clusters streaming on loopback: lag on both sides, a drill's preflight, a promotion under write load losing no row committed before the measured point, refusal on a primary, a retry that adopts, the old primary rewound to follow (pg_rewind's password never in argv), and a switch back with no row missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lsnBytes, CATCH_UP_MS } from '../../activities/postgres/lag.ts';
import { postgresPromoteImpl } from '../../activities/postgres/promote.ts';
import { postgresReplicationImpl } from '../../activities/postgres/replication.ts';
import { postgresReprotectImpl } from '../../activities/postgres/reprotect.ts';
import type { ActionResult } from '../../contract/run.ts';
import { ensurePostgres, startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { REPLICATION_SETTINGS, startStandby } from '../../stack/postgres-standby.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { startMarkedRelay, type MarkedRelay } from '../helpers/marked-relay.ts';
import { childrenNamed, procStrings } from '../helpers/tool-processes.ts';

let primary: PostgresServer;
let standby: PostgresServer;
let relay: MarkedRelay | undefined;
const results: ActionResult[] = [];
const failures: string[] = [];

beforeAll(async () => {
  primary = await startPostgres({ settings: { ...REPLICATION_SETTINGS } });
  await primary.query('create table ledger (id bigint primary key, at timestamptz not null default clock_timestamp())');
  const init = spawnSync(
    join(ensurePostgres(), 'pgbench'),
    ['-i', '-s', '1', '-q', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'rebound', 'postgres'],
    {
      env: { ...process.env, PGPASSWORD: primary.password },
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  standby = await startStandby(primary, { name: 'dr' });
  process.env.REPL_PRIMARY = primary.url();
  process.env.REPL_STANDBY = standby.url();
}, 300_000);

afterAll(async () => {
  await relay?.close();
  await standby?.destroy();
  await primary?.destroy();
});

const { run } = stepRunner({
  runbook: 'orders-failover',
  step: 'promote-dr',
  secrets: { primary: { env: 'REPL_PRIMARY' }, standby: { env: 'REPL_STANDBY' }, relayed: { env: 'REPL_RELAYED' } },
  onResult: (r) => results.push(r),
});
const PRIMARY = { $secret: 'primary' };
const STANDBY = { $secret: 'standby' };
const failing = (promise: Promise<unknown>) => failureOf(promise, (f) => failures.push(f.message));
const out = (r: ActionResult) => r.outputs as Record<string, unknown> & { lag_bytes: number | null; replay_lsn: string | null };

/** Commits ledger rows one by one on `url`, recording after each commit the server's WAL position (at or past the commit record). */
function startWriter(url: string, from: number) {
  const committed: Array<{ id: number; lsn: string }> = [];
  let stopping = false;
  const client = new pg.Client({ connectionString: url });
  const done = (async () => {
    await client.connect();
    for (let id = from; !stopping; id++) {
      try {
        await client.query('insert into ledger (id) values ($1)', [id]);
        committed.push({ id, lsn: (await client.query('select pg_current_wal_lsn()::text as lsn')).rows[0].lsn as string });
      } catch {
        break;
      }
    }
    await client.end().catch(() => undefined);
  })();
  return { committed, stop: async () => ((stopping = true), await done) };
}

/** pgbench's TPC-B-like load at a modest rate beside the tracked rows, on loopback, its password in its environment. */
function startPgbench(server: PostgresServer): ChildProcess {
  const bin = join(ensurePostgres(), 'pgbench');
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'rebound', '-n', '-c', '2', '-R', '100', '-T', '600', 'postgres'];
  return spawn(bin, args, { env: { ...process.env, PGPASSWORD: server.password }, stdio: 'ignore' });
}

const present = async (server: PostgresServer) => new Set((await server.query<{ id: string }>('select id from ledger')).map((r) => Number(r.id)));

describe('PostgreSQL streaming replication: lag, promotion, reprotect', () => {
  let promoted: Record<string, unknown> & { lag_bytes: number | null; replay_lsn: string | null };
  let promoteScheduled = 0;

  it(
    'postgres.replication reads a primary (its standby streaming, lag 0 once caught up) and the standby (LSNs, against the primary)',
    { timeout: 120_000 },
    async () => {
      await primary.query('insert into ledger (id) values (0)');
      await expect
        .poll(async () => out(await run(postgresReplicationImpl, { server: PRIMARY })), { timeout: 60_000, interval: 500 })
        .toMatchObject({
          role: 'primary',
          timeline: 1,
          lag_bytes: 0,
          lag_seconds: 0,
          rpo_seconds: 0,
          standbys: [{ application_name: 'dr', state: 'streaming' }],
        });
      const read = out(await run(postgresReplicationImpl, { server: STANDBY, primary: PRIMARY, service: 'orders-pg' }));
      expect(read).toMatchObject({ service: 'orders-pg', role: 'standby', standbys: [], server: `127.0.0.1:${standby.port}` });
      expect(read.receive_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(read.primary_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(read.upstream).toContain(`127.0.0.1:${primary.port}`);
    },
  );

  it('an idle primary is no lag: a standby whose last replayed commit is old reads well under that age', { timeout: 120_000 }, async () => {
    let read = out(await run(postgresReplicationImpl, { server: STANDBY, primary: PRIMARY }));
    const age = (r: typeof read) => (Date.parse(r.measured_at as string) - Date.parse(r.last_replay_at as string)) / 1000;
    // No commits for longer than a catch-up can last: a lag read off the last commit would exceed it.
    await expect
      .poll(async () => age((read = out(await run(postgresReplicationImpl, { server: STANDBY, primary: PRIMARY })))), { timeout: 60_000, interval: 1000 })
      .toBeGreaterThan(CATCH_UP_MS / 1000 + 1);
    expect(read.lag_method).not.toBe('last_replay');
    expect(read.lag_seconds as number).toBeLessThan(age(read));
    expect(out(await run(postgresReplicationImpl, { server: STANDBY }))).toMatchObject({ lag_bytes: 0, lag_seconds: 0, lag_method: 'in_sync' });
  });

  it('past max_lag the read fails, retryable, naming the standby and its figures', { timeout: 120_000 }, async () => {
    await standby.query('select pg_wal_replay_pause()');
    try {
      await primary.query('insert into ledger (id) select g from generate_series(-1000, -1) g');
      // Received, not replayed: a paused standby cannot catch up, so its lag is read off its last commit.
      await expect.poll(async () => (await run(postgresReplicationImpl, { server: STANDBY })).outputs.lag_bytes, { timeout: 60_000 }).toBeGreaterThan(0);
      const failure = await failing(run(postgresReplicationImpl, { server: STANDBY, primary: PRIMARY, max_lag: '1s', max_lag_bytes: 0 }));
      expect(failure).toMatchObject({ type: 'check_failed', nonRetryable: false });
      expect(failure.message).toContain(`standby 127.0.0.1:${standby.port}`);
      expect(failure.message).toMatch(/lag \d+(\.\d+)? s is past max_lag 1s; lag \d+ bytes is past max_lag_bytes 0/);
    } finally {
      await standby.query('select pg_wal_replay_resume()');
      await primary.query('delete from ledger where id < 0');
    }
  });

  it('a drill preflights the promotion and changes nothing; on a primary the preflight fails', { timeout: 120_000 }, async () => {
    const drill = out(await run(postgresPromoteImpl, { server: STANDBY, primary: PRIMARY, max_lag: '1h' }, { simulate: true }));
    expect(drill).toMatchObject({ simulated: true, changed: true, previous: { role: 'standby', timeline: 1 } });
    expect(drill.preflight).toEqual(expect.arrayContaining([expect.stringMatching(/^a standby: pg_is_in_recovery\(\) is true/)]));
    expect((await standby.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(true);
    const refused = await failing(run(postgresPromoteImpl, { server: PRIMARY }, { simulate: true }));
    expect(refused).toMatchObject({ type: 'conflict', nonRetryable: true });
  });

  it('promote is refused on a primary, at once and on a retry: nothing shows a promotion there', { timeout: 60_000 }, async () => {
    for (const attempt of [1, 2]) {
      const refused = await failing(run(postgresPromoteImpl, { server: PRIMARY }, { attempt }));
      expect(refused).toMatchObject({ type: 'conflict', nonRetryable: true });
      expect(refused.message).toContain(`127.0.0.1:${primary.port} is not a standby`);
    }
    expect((await primary.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
  });

  it('promotes the standby under write load: lag measured, writable, every row committed before the measured point present', { timeout: 300_000 }, async () => {
    const writer = startWriter(primary.url(), 1);
    const bench = startPgbench(primary);
    try {
      await expect.poll(() => writer.committed.length, { timeout: 120_000 }).toBeGreaterThan(300);
      await expect.poll(async () => (await primary.query('select count(*)::int as n from pgbench_history'))[0]!.n, { timeout: 60_000 }).toBeGreaterThan(0);
      promoteScheduled = Date.now();
      promoted = out(await run(postgresPromoteImpl, { server: STANDBY, primary: PRIMARY, service: 'orders-pg', max_lag: '1h' }));
    } finally {
      await writer.stop();
      const exited = new Promise((r) => bench.once('exit', r));
      if (bench.exitCode === null && bench.kill('SIGINT')) await exited;
    }
    expect(promoted).toMatchObject({
      changed: true,
      adopted: false,
      previous: { role: 'standby', timeline: 1 },
      current: { role: 'primary', timeline: 2 },
      timeline: 2,
    });
    expect(promoted.lag_bytes).toBeTypeOf('number');
    expect(promoted).toMatchObject({ rpo_method: 'replica lag at promotion', rpo_ms: Math.round((promoted.rpo_seconds as number) * 1000) });
    expect(promoted.primary_lsn).toMatch(/\//);
    expect(lsnBytes(promoted.switch_lsn as string)).toBeGreaterThanOrEqual(lsnBytes(promoted.replay_lsn!));
    await standby.query('insert into ledger (id) values (-1)');

    const have = await present(standby);
    const measured = lsnBytes(promoted.replay_lsn!);
    const missing = writer.committed.filter((r) => !have.has(r.id));
    // No row committed at or before the measured replay point is lost…
    expect(writer.committed.filter((r) => lsnBytes(r.lsn) <= measured && !have.has(r.id))).toEqual([]);
    expect(missing.every((r) => lsnBytes(r.lsn) > measured)).toBe(true);
    // …and a row the primary had committed by the time the lag was read is missing only if the lag said so.
    if (missing.some((r) => lsnBytes(r.lsn) <= lsnBytes(promoted.primary_lsn as string))) expect(promoted.lag_bytes).toBeGreaterThan(0);
  });

  it('a retry after the promotion adopts it, without a second promotion; a fresh attempt on it is refused', { timeout: 60_000 }, async () => {
    // A worker died after pg_promote, before its heartbeat left: the history file, written since the step was scheduled, proves it.
    const retryEnv = new MockActivityEnvironment({ attempt: 2, scheduledTimestampMs: promoteScheduled });
    const retry = out(await run(postgresPromoteImpl, { server: STANDBY, primary: PRIMARY }, { env: retryEnv }));
    expect(retry).toMatchObject({
      adopted: true,
      changed: true,
      timeline: 2,
      current: { role: 'primary', timeline: 2 },
      previous: { role: 'standby', timeline: 1 },
    });
    expect(retry.lag_method).toBe('unknown');
    expect(retry.switch_lsn).toBe(promoted.switch_lsn);
    expect((await standby.query<{ n: string }>("select count(*) as n from pg_ls_dir('pg_wal') f where f like '%.history'"))[0]!.n).toBe('1');
    // Its heartbeat did arrive: the lag it measured before pg_promote is the step's, whatever the clock says of the history file.
    const lag = Object.fromEntries(
      ['lag_bytes', 'lag_seconds', 'rpo_seconds', 'rpo_ms', 'lag_method', 'receive_lsn', 'replay_lsn', 'primary_lsn', 'last_replay_at', 'measured_at'].map(
        (k) => [k, promoted[k]],
      ),
    );
    const beatEnv = new MockActivityEnvironment({
      attempt: 2,
      scheduledTimestampMs: Date.now() + 3_600_000,
      heartbeatDetails: { promoting: { system: null, timeline: 1, lag } },
    });
    expect(out(await run(postgresPromoteImpl, { server: STANDBY }, { env: beatEnv }))).toMatchObject({ adopted: true, changed: true, ...lag });
    expect((await standby.query<{ n: string }>("select count(*) as n from pg_ls_dir('pg_wal') f where f like '%.history'"))[0]!.n).toBe('1');
    const refused = await failing(run(postgresPromoteImpl, { server: STANDBY }));
    expect(refused).toMatchObject({ type: 'conflict', nonRetryable: true });
  });

  it(
    'reprotect rewinds the old primary and makes it follow the new one; pg_rewind gets the password only in its environment; a retry changes nothing more',
    { timeout: 300_000 },
    async () => {
      relay = await startMarkedRelay(standby.port, 'rebound_pg_rewind');
      process.env.REPL_RELAYED = standby.url().replace(`:${standby.port}/`, `:${relay.port}/`);
      const reprotect = {
        source: { $secret: 'relayed' },
        data_dir: primary.dataDir,
        port: primary.port,
        socket_dir: primary.socketDir,
        settings: { listen_addresses: '127.0.0.1' },
        application_name: 'old_primary',
        expect_current: { timeline: 2 },
      };
      const wrongTimeline = await failing(run(postgresReprotectImpl, { ...reprotect, expect_current: { timeline: 7 } }));
      expect(wrongTimeline).toMatchObject({ type: 'conflict', nonRetryable: true });
      expect((await primary.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false); // nothing was stopped

      const drill = out(await run(postgresReprotectImpl, reprotect, { simulate: true }));
      expect(drill).toMatchObject({ simulated: true, changed: true, stopped: false, previous: { running: true, state: 'in production' } });

      const step = run(postgresReprotectImpl, reprotect);
      await relay.held();
      const [tool] = childrenNamed(process.pid, 'pg_rewind');
      expect(tool).toBeDefined();
      expect(procStrings(tool!, 'cmdline').join(' ')).not.toContain(standby.password);
      expect(procStrings(tool!, 'cmdline').join(' ')).toContain('--source-server');
      expect(procStrings(tool!, 'environ')).toContain(`PGPASSWORD=${standby.password}`);
      relay.release();
      const done = out(await step);
      expect(done).toMatchObject({
        changed: true,
        stopped: true,
        rewound: true,
        current: { role: 'standby', following: `127.0.0.1:${relay.port}`, timeline: 2 },
      });

      expect((await primary.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(true);
      await standby.query('insert into ledger (id) values (-2)');
      await expect.poll(async () => (await primary.query('select count(*)::int as n from ledger where id = -2'))[0]!.n, { timeout: 60_000 }).toBe(1);
      expect(await primary.query('select status, sender_port from pg_stat_wal_receiver')).toEqual([{ status: 'streaming', sender_port: relay.port }]);
      // The password is beside the data directory, never in it: every backup of the cluster copies that.
      const config = readdirSync(primary.dataDir).filter((f) => statSync(join(primary.dataDir, f)).isFile());
      for (const f of config) expect(readFileSync(join(primary.dataDir, f), 'latin1'), f).not.toContain(standby.password);
      expect(readFileSync(join(dirname(primary.dataDir), `.${basename(primary.dataDir)}.rebound-primary.pgpass`), 'utf8')).toContain(standby.password);

      const again = out(await run(postgresReprotectImpl, reprotect, { attempt: 2 }));
      expect(again).toMatchObject({ changed: true, stopped: false, rewound: false });
    },
  );

  it('back to the first primary with the load stopped and no lag: no row is missing', { timeout: 300_000 }, async () => {
    const writer = startWriter(standby.url(), 1_000_000);
    await expect.poll(() => writer.committed.length, { timeout: 60_000 }).toBeGreaterThan(100);
    await writer.stop();
    const last = writer.committed.at(-1)!.lsn;
    // The old primary follows the new one: wait until it has replayed every tracked commit.
    await expect
      .poll(async () => lsnBytes(out(await run(postgresReplicationImpl, { server: PRIMARY })).replay_lsn ?? '0/0'), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(lsnBytes(last));
    const back = out(await run(postgresPromoteImpl, { server: PRIMARY, primary: STANDBY, max_lag: '1h' }));
    expect(back).toMatchObject({ changed: true, current: { role: 'primary', timeline: 3 } });
    expect(lsnBytes(back.replay_lsn!)).toBeGreaterThanOrEqual(lsnBytes(last));
    const have = await present(primary);
    expect(writer.committed.filter((r) => !have.has(r.id))).toEqual([]);
    await primary.query('insert into ledger (id) values (-3)');
  });

  it('no output and no failure carried a password', () => {
    const text = JSON.stringify(results) + failures.join('\n');
    for (const password of [primary.password, standby.password]) expect(text).not.toContain(password);
    expect(results.length).toBeGreaterThan(10);
  });
});
