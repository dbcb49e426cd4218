// Replication lag as Redis lets it be measured: the offset gap to the master, the seconds a replica takes to reach the master's offset, else the bounds INFO gives; and the max_lag limits.
import type { LAG_METHODS } from '../../contract/actions/redis-replication.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import type { RedisTarget } from './cli.ts';
import { addressOf, readReplication, type CliOptions, type ReplicationInfo } from './replication-info.ts';

export interface Lag {
  master_offset: number | null;
  replica_offset: number | null;
  lag_bytes: number | null;
  lag_seconds: number | null;
  rpo_seconds: number | null;
  lag_method: (typeof LAG_METHODS)[number];
  measured_at: string | null;
}

export interface Limits {
  max_lag?: string | undefined;
  max_lag_bytes?: number | undefined;
}

/** How long a lagging replica is given to reach the master's offset when `max_lag` does not say. */
const CATCH_UP_WAIT_MS = 5_000;
/** A master that does not answer within this is taken as unreachable (redis-cli 7.0 has no connect timeout of its own). */
const PRIMARY_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

const options = (ctx: ActionContext, signal = ctx.signal): CliOptions => ({ signal, mask: ctx.mask });
const seconds = (ms: number) => Math.round(ms) / 1000;

/** How long a catch-up may take: up to max_lag (past it the limit fails anyway), else a few seconds. */
export const catchUpWait = (limits: Limits): number => (limits.max_lag ? parseDuration(limits.max_lag)! : CATCH_UP_WAIT_MS);

/**
 * The master's replication state, or why it could not be read: a master that is down or
 * does not answer is what a failover expects (the lag then falls back to INFO's bounds); a
 * wrong password or a server that is not this replica's master is an error in the runbook.
 */
export async function readPrimary(primary: RedisTarget, replica: ReplicationInfo, ctx: ActionContext): Promise<ReplicationInfo | string> {
  const limit = AbortSignal.timeout(PRIMARY_TIMEOUT_MS);
  let info: ReplicationInfo;
  try {
    info = await readReplication(primary, options(ctx, AbortSignal.any([ctx.signal, limit])));
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    if (limit.aborted) return `no answer within ${PRIMARY_TIMEOUT_MS / 1000}s`;
    if (error instanceof ActionError && !error.retryable) throw error;
    return error instanceof Error ? error.message : String(error);
  }
  if (replica.master?.up && !replica.master.syncing && info.replid !== replica.replid) {
    throw new ActionError('invalid_input', `primary ${addressOf(primary)} is not the master this replica follows (their replication IDs differ)`, {
      retryable: false,
    });
  }
  return info;
}

/** Without the master's offset: the bounds a replica's INFO gives (seconds since it last heard from its master, or since the link went down). */
function boundFromInfo(info: ReplicationInfo): Lag {
  const link = info.master!;
  const base = { master_offset: null, replica_offset: info.offset, lag_bytes: null, lag_seconds: null, measured_at: new Date().toISOString() };
  if (link.up) return { ...base, rpo_seconds: link.lastIo ?? 0, lag_method: 'last_io' };
  return { ...base, rpo_seconds: link.downSince, lag_method: 'link_down' };
}

/** The offset a measurement compares with the master's: a replica's own, or a master's slowest replica's acknowledgement. */
const behind = (info: ReplicationInfo): number => (info.role === 'replica' ? info.offset : Math.min(...info.replicas.map((r) => r.offset)));

/**
 * The gap at the first read, then the seconds until the replica (a master: every replica)
 * reached the master offset read at `at`, polled on `server` up to `waitMs`. Returns the last
 * state read: what a promotion right after holds at least.
 */
async function catchUp(server: RedisTarget, info: ReplicationInfo, masterOffset: number, waitMs: number, ctx: ActionContext) {
  const at = Date.now();
  const measured_at = new Date(at).toISOString();
  const gap = Math.max(0, masterOffset - behind(info));
  const base = { master_offset: masterOffset, lag_bytes: gap, measured_at };
  if (gap === 0) return { lag: { ...base, replica_offset: behind(info), lag_seconds: 0, rpo_seconds: 0, lag_method: 'in_sync' } as Lag, last: info };
  let last = info;
  while (Date.now() - at < waitMs) {
    if (ctx.signal.aborted) throw new ActionError('cancelled', 'cancelled while measuring the replication lag');
    await new Promise((r) => setTimeout(r, POLL_MS));
    last = await readReplication(server, options(ctx));
    if (behind(last) >= masterOffset) {
      const took = seconds(Date.now() - at);
      return { lag: { ...base, replica_offset: behind(last), lag_seconds: took, rpo_seconds: took, lag_method: 'catch_up' } as Lag, last };
    }
  }
  const lag: Lag = { ...base, replica_offset: behind(last), lag_seconds: null, rpo_seconds: seconds(waitMs), lag_method: 'catch_up_timeout' };
  return { lag, last };
}

/** A replica's lag against its master's offset (`master` when it answered), else INFO's bound; a master's against its slowest replica. */
export async function measureLag(
  server: RedisTarget,
  info: ReplicationInfo,
  master: ReplicationInfo | undefined,
  waitMs: number,
  ctx: ActionContext,
): Promise<{ lag: Lag; last: ReplicationInfo }> {
  if (info.role === 'master') {
    if (!info.replicas.length) {
      const none: Lag = {
        master_offset: info.offset,
        replica_offset: null,
        lag_bytes: null,
        lag_seconds: null,
        rpo_seconds: null,
        lag_method: 'no_replicas',
        measured_at: null,
      };
      return { lag: none, last: info };
    }
    return catchUp(server, info, info.offset, waitMs, ctx);
  }
  if (!master) return { lag: boundFromInfo(info), last: info };
  return catchUp(server, info, master.offset, waitMs, ctx);
}

/** What a limit found, for a preflight's list; throws check_failed past either limit. */
export function checkLimits(limits: Limits, lag: Lag): string[] {
  const proved: string[] = [];
  const fail = (message: string) => {
    throw new ActionError('check_failed', message);
  };
  if (limits.max_lag_bytes !== undefined) {
    if (lag.lag_bytes === null) fail(`max_lag_bytes ${limits.max_lag_bytes}: the lag cannot be measured in bytes here (${describeLag(lag)})`);
    if (lag.lag_bytes! > limits.max_lag_bytes) fail(`replication lag ${lag.lag_bytes} bytes is past max_lag_bytes ${limits.max_lag_bytes}`);
    proved.push(`lag ${lag.lag_bytes} bytes is within max_lag_bytes ${limits.max_lag_bytes}`);
  }
  if (limits.max_lag !== undefined) {
    const max = parseDuration(limits.max_lag)! / 1000;
    if (lag.rpo_seconds === null) fail(`max_lag ${limits.max_lag}: the lag cannot be measured in seconds here (${describeLag(lag)})`);
    if (lag.lag_method === 'catch_up_timeout' || lag.rpo_seconds! > max) fail(`replication lag ${describeLag(lag)} is past max_lag ${limits.max_lag}`);
    proved.push(`lag ${describeLag(lag)} is within max_lag ${limits.max_lag}`);
  }
  return proved;
}

/** One phrase for logs, preflights and failures: the figure and how it was found. */
export function describeLag(lag: Lag): string {
  const bytes = lag.lag_bytes === null ? '' : `${lag.lag_bytes} bytes, `;
  switch (lag.lag_method) {
    case 'in_sync':
      return 'in sync with the master offset (0 bytes)';
    case 'catch_up':
      return `${bytes}caught up with the master offset in ${lag.rpo_seconds}s`;
    case 'catch_up_timeout':
      return `${bytes}not caught up with the master offset within ${lag.rpo_seconds}s (at least that)`;
    case 'last_io':
      return `master offset not read; last heard from the master ${lag.rpo_seconds}s ago (master_last_io_seconds_ago)`;
    case 'link_down':
      return `master offset not read; link to the master down for ${lag.rpo_seconds ?? 'an unknown number of'}s`;
    case 'no_replicas':
      return 'no replica attached';
    default:
      return 'not measured';
  }
}

/** The RPO a run report takes from this step: the lag's seconds (or the bound lag_method names) in milliseconds. */
export function rpo(lag: Lag, method: 'replica lag' | 'replica lag at promotion') {
  return { rpo_ms: lag.rpo_seconds === null ? null : Math.round(lag.rpo_seconds * 1000), rpo_method: method };
}
