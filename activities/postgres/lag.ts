// Replication lag of a PostgreSQL server: LSN arithmetic, a standby's receive/replay positions against its primary (with a short catch-up), a primary's pg_stat_replication, and the max_lag limits.
import type pg from 'pg';
import type { z } from 'zod';
import { parseDuration } from '../../contract/duration.ts';
import type { postgresReplication } from '../../contract/actions/postgres-replication.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { withClient } from './connection.ts';

type Output = z.input<typeof postgresReplication.output>;
export type Lag = Pick<
  Output,
  'lag_bytes' | 'lag_seconds' | 'rpo_seconds' | 'rpo_ms' | 'lag_method' | 'receive_lsn' | 'replay_lsn' | 'primary_lsn' | 'last_replay_at' | 'measured_at'
>;
export type Standby = Output['standbys'][number];

/**
 * How long a standby that is behind is watched replaying up to the position it lacked: a
 * streaming standby gets there in well under this, and the time it took is its lag; one that
 * does not is judged by its last replayed commit instead.
 */
export const CATCH_UP_MS = 5_000;

/** An LSN ("16/B374D848") as a byte position. */
export function lsnBytes(lsn: string): number {
  const [hi, lo] = lsn.split('/');
  return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16);
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The figures of one reading: bytes lacking, and seconds (also as the RPO, in seconds and milliseconds). */
const figures = (lag_bytes: number | null, seconds: number | null, lag_method: Lag['lag_method']) => ({
  lag_bytes,
  lag_seconds: seconds,
  rpo_seconds: seconds,
  rpo_ms: seconds === null ? null : Math.round(seconds * 1000),
  lag_method,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StandbyRead {
  receive_lsn: string | null;
  replay_lsn: string | null;
  last_replay_at: Date | null;
  /** Seconds from the last replayed commit to now, on the server's clock. */
  since_replay: number | null;
  now: Date;
}

async function readStandby(client: pg.Client): Promise<StandbyRead> {
  const { rows } = await client.query(
    `select pg_last_wal_receive_lsn()::text as receive_lsn, pg_last_wal_replay_lsn()::text as replay_lsn,
            pg_last_xact_replay_timestamp() as last_replay_at, clock_timestamp() as now,
            extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8 as since_replay`,
  );
  return rows[0] as StandbyRead;
}

/** The primary's current WAL position, or why it could not be read (a failover's primary is often gone). */
async function primaryLsn(url: string, ctx: Pick<ActionContext, 'mask' | 'log'>): Promise<string | undefined> {
  try {
    return await withClient(
      url,
      async (c) => {
        const { rows } = await c.query('select pg_is_in_recovery() as standby, case when not pg_is_in_recovery() then pg_current_wal_lsn()::text end as lsn');
        if (rows[0].standby) throw new Error('it is in recovery itself');
        return rows[0].lsn as string;
      },
      ctx.mask,
    );
  } catch (error) {
    ctx.log('warn', `the primary could not be read (${ctx.mask((error as Error).message)}): lag against what the standby received instead`);
    return undefined;
  }
}

/**
 * A standby's lag. Behind means: its replay position is short of the primary's current LSN
 * (with `primary`, read just after the standby, so never an underestimate), else of the WAL it
 * received. Not behind: 0 s (an idle primary is no lag, however old the last commit). Behind:
 * it is watched for up to CATCH_UP_MS; reaching the position gives the seconds it took
 * (`catch_up`), otherwise now − its last replayed commit (`last_replay`, an upper bound: that
 * commit is older than any it lacks).
 */
export async function measureStandby(
  client: pg.Client,
  primary: string | undefined,
  ctx: Pick<ActionContext, 'mask' | 'log' | 'heartbeat' | 'signal'>,
): Promise<Lag> {
  const first = await readStandby(client);
  const primary_lsn = primary ? ((await primaryLsn(primary, ctx)) ?? null) : null;
  const target = primary_lsn ?? first.receive_lsn;
  const base = {
    receive_lsn: first.receive_lsn,
    replay_lsn: first.replay_lsn,
    primary_lsn,
    last_replay_at: first.last_replay_at?.toISOString() ?? null,
    measured_at: first.now.toISOString(),
  };
  if (!target || !first.replay_lsn) return { ...base, ...figures(null, null, 'unknown') };
  const lag_bytes = Math.max(0, lsnBytes(target) - lsnBytes(first.replay_lsn));
  if (lag_bytes === 0) return { ...base, ...figures(0, 0, 'in_sync') };
  const started = Date.now();
  let last = first;
  while (Date.now() - started < CATCH_UP_MS && !ctx.signal.aborted) {
    await sleep(100);
    last = await readStandby(client);
    ctx.heartbeat({ phase: 'catch-up', target, replayed: last.replay_lsn });
    if (last.replay_lsn && lsnBytes(last.replay_lsn) >= lsnBytes(target)) {
      return { ...base, ...figures(lag_bytes, round((Date.now() - started) / 1000), 'catch_up') };
    }
  }
  const seconds = last.since_replay === null ? null : round(Math.max(last.since_replay, (Date.now() - started) / 1000));
  return { ...base, ...figures(lag_bytes, seconds, seconds === null ? 'unknown' : 'last_replay') };
}

/** A primary's standbys (pg_stat_replication); each one's lag in seconds is 0 when it has replayed everything, else PostgreSQL's replay_lag. */
export async function readStandbys(client: pg.Client): Promise<Standby[]> {
  const { rows } = await client.query(
    `select application_name, client_addr::text as client_addr, state, sync_state,
            sent_lsn::text as sent_lsn, write_lsn::text as write_lsn, flush_lsn::text as flush_lsn, replay_lsn::text as replay_lsn,
            pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as lag_bytes,
            extract(epoch from replay_lag)::float8 as replay_lag
       from pg_stat_replication order by application_name, client_addr, pid`,
  );
  return rows.map(({ replay_lag, ...r }) => {
    const lag_bytes = r.lag_bytes === null ? null : Math.max(0, Number(r.lag_bytes));
    return { ...r, lag_bytes, lag_seconds: lag_bytes === 0 ? 0 : replay_lag === null ? null : round(Number(replay_lag)) } as Standby;
  });
}

/** A primary's lag is its slowest standby's: what a failover to the worst of them would lose. */
export function primaryLag(standbys: Standby[], now: Date): Lag {
  const base = { receive_lsn: null, replay_lsn: null, primary_lsn: null, last_replay_at: null, measured_at: now.toISOString() };
  if (!standbys.length) return { ...base, ...figures(null, null, 'no_standby') };
  const worst = (values: Array<number | null>) => (values.some((v) => v === null) ? null : Math.max(...(values as number[])));
  return { ...base, ...figures(worst(standbys.map((s) => s.lag_bytes)), worst(standbys.map((s) => s.lag_seconds)), 'standbys') };
}

/** The figures in words, for messages and logs. */
export function describeLag(lag: Lag): string {
  const bytes = lag.lag_bytes === null ? 'unknown bytes' : `${lag.lag_bytes} bytes`;
  const seconds = lag.lag_seconds === null ? 'unknown seconds' : `${lag.lag_seconds} s`;
  const against = lag.primary_lsn ? `the primary's ${lag.primary_lsn}` : lag.receive_lsn ? `received ${lag.receive_lsn}` : undefined;
  const where = lag.replay_lsn && against ? `; replayed ${lag.replay_lsn} of ${against}` : '';
  return `lag ${bytes}, ${seconds} (${lag.lag_method})${where}`;
}

/** Fails past `max_lag` / `max_lag_bytes`, or when a limit is set and its figure is unknown: check_failed, retryable, so `retry:` can wait for catch-up. */
export function checkLimits(limits: { max_lag?: string; max_lag_bytes?: number }, lag: Lag, who: string): void {
  const problems: string[] = [];
  if (limits.max_lag !== undefined) {
    const max = parseDuration(limits.max_lag)! / 1000;
    if (lag.lag_seconds === null) problems.push(`its lag in seconds is unknown, so max_lag ${limits.max_lag} cannot be met`);
    else if (lag.lag_seconds > max) problems.push(`lag ${lag.lag_seconds} s is past max_lag ${limits.max_lag}`);
  }
  if (limits.max_lag_bytes !== undefined) {
    if (lag.lag_bytes === null) problems.push(`its lag in bytes is unknown, so max_lag_bytes ${limits.max_lag_bytes} cannot be met`);
    else if (lag.lag_bytes > limits.max_lag_bytes) problems.push(`lag ${lag.lag_bytes} bytes is past max_lag_bytes ${limits.max_lag_bytes}`);
  }
  if (problems.length) throw new ActionError('check_failed', `${who}: ${problems.join('; ')} (${describeLag(lag)})`, { retryable: true });
}
