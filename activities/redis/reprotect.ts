// redis.promote with `operation: reprotect` (a promotion's revert): the old master follows the promoted server — masterauth through stdin, REPLICAOF, waited until its link is up and its offset has caught up.
import type { z } from 'zod';
import type { redisPromote } from '../../contract/actions/redis-replication.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { parseRedisUrl, redisCommand, type RedisTarget } from './cli.ts';
import { activityInfo, addressOf, checkExpected, masterAddress, readReplication, type ReplicationInfo } from './replication-info.ts';

type Input = z.output<typeof redisPromote.input>;
type Output = z.input<typeof redisPromote.output>;

interface Survey {
  server: RedisTarget;
  old: RedisTarget;
  to: { host: string; port: number };
  /** The old master and the promoted server still stand as before the promotion: nothing to do. */
  unpromoted: boolean;
  /** The old master follows `to` already (an earlier attempt's REPLICAOF). */
  following: boolean;
  oldInfo?: ReplicationInfo;
  diverged: number | null;
  proved: string[];
}

const opts = (ctx: ActionContext) => ({ signal: ctx.signal, mask: ctx.mask });
const POLL_MS = 200;

function destination(input: Input, server: RedisTarget): { host: string; port: number } {
  if (!input.server_address) return { host: server.host, port: server.port };
  const at = input.server_address.lastIndexOf(':');
  return { host: input.server_address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(input.server_address.slice(at + 1)) };
}

/** Bytes the old master took after the promotion point (lost to the resync), when both share the history the promotion forked. */
function divergedBytes(oldInfo: ReplicationInfo, serverInfo: ReplicationInfo): number | null {
  if (oldInfo.role !== 'master' || serverInfo.secondOffset < 0 || oldInfo.replid !== serverInfo.replid2) return null;
  return Math.max(0, oldInfo.offset - (serverInfo.secondOffset - 1));
}

/** Reads both servers and refuses what it must not change: a promoted server that is no longer the master, an old master that follows another. */
async function survey(input: Input, ctx: ActionContext): Promise<Survey> {
  const server = parseRedisUrl(input.server);
  const old = parseRedisUrl(input.primary!);
  const to = destination(input, server);
  const base = { server, old, to, unpromoted: false, following: false, diverged: null };
  const serverInfo = await readReplication(server, opts(ctx));
  // A promotion that never took effect left both as they were: the revert has nothing to do.
  if (serverInfo.role === 'replica' && masterAddress(serverInfo) === addressOf(old)) {
    return { ...base, unpromoted: true, proved: [`${addressOf(server)} still follows ${addressOf(old)}: nothing was promoted`] };
  }
  const proved = checkExpected(input.expect_current, serverInfo, addressOf(server));
  if (serverInfo.role !== 'master') {
    throw new ActionError('conflict', `${addressOf(server)} is a replica of ${masterAddress(serverInfo)}, not a master: nothing to reprotect onto`, {
      retryable: false,
    });
  }
  const oldInfo = await readReplication(old, opts(ctx));
  if (oldInfo.role === 'replica' && masterAddress(oldInfo) !== addressOf(to)) {
    throw new ActionError('conflict', `${addressOf(old)} follows ${masterAddress(oldInfo)}, not ${addressOf(to)}; left alone`, { retryable: false });
  }
  const following = oldInfo.role === 'replica';
  proved.push(`${addressOf(server)} is a master`, `${addressOf(old)} answers and is ${following ? `a replica of ${addressOf(to)} already` : 'a master'}`);
  return { ...base, following, oldInfo, diverged: divergedBytes(oldInfo, serverInfo), proved };
}

function reprotected(s: Survey, fields: Pick<Output, 'changed' | 'simulated' | 'preflight' | 'converged_offset'>): Output {
  const before = s.unpromoted ? { role: 'master' as const, master: null } : { role: s.oldInfo!.role, master: masterAddress(s.oldInfo!) };
  return {
    operation: 'reprotect',
    address: addressOf(s.old),
    previous: before,
    current: s.unpromoted ? before : { role: 'replica', master: addressOf(s.to) },
    ...fields,
    previous_master: null,
    promoted_at: null,
    master_offset: null,
    replica_offset: null,
    lag_bytes: null,
    lag_seconds: null,
    rpo_seconds: null,
    lag_method: 'unknown',
    measured_at: null,
    diverged_bytes: s.diverged,
  };
}

/** The new master's credentials on the old one, then REPLICAOF: the password reaches redis-cli on stdin, never in argv or a log. */
async function follow(s: Survey, ctx: ActionContext): Promise<void> {
  if (s.server.user) await redisCommand(s.old, ['CONFIG', 'SET', 'masteruser', s.server.user], opts(ctx));
  if (s.server.password) await redisCommand(s.old, ['CONFIG', 'SET', 'masterauth'], { ...opts(ctx), stdin: s.server.password });
  await redisCommand(s.old, ['REPLICAOF', s.to.host, String(s.to.port)], opts(ctx));
  ctx.log('info', `${addressOf(s.old)} now replicates ${addressOf(s.to)}${s.server.password ? " (masterauth from server's secret)" : ''}`);
}

/** Polls the old master until its link is up, its sync done, and its offset has reached the new master's, read once the link was up. */
async function converge(s: Survey, timeout: string, ctx: ActionContext): Promise<number> {
  const deadline = Date.now() + parseDuration(timeout)!;
  let target: number | undefined;
  let last: ReplicationInfo | undefined;
  while (Date.now() < deadline) {
    if (ctx.signal.aborted) throw new ActionError('cancelled', 'cancelled while waiting for the old master to sync');
    last = await readReplication(s.old, opts(ctx));
    if (last.master?.up && !last.master.syncing) {
      target ??= (await readReplication(s.server, opts(ctx))).offset;
      if (last.offset >= target) return last.offset;
    }
    ctx.heartbeat({ phase: 'syncing', reprotecting: addressOf(s.old), offset: last.offset, target });
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const link = last?.master
    ? `link ${last.master.up ? 'up' : 'down'}${last.master.syncing ? ', syncing' : ''}`
    : `still a ${last?.role ?? 'server that did not answer'}`;
  const where = target === undefined ? '' : `, offset ${last?.offset} of ${target}`;
  throw new ActionError('timeout', `${addressOf(s.old)} did not catch up with ${addressOf(s.to)} within ${timeout} (${link}${where})`);
}

/** Whether this step's earlier attempt sent the REPLICAOF that the old master now follows. */
const earlierFollow = (old: RedisTarget): boolean => (activityInfo().details as { reprotecting?: string } | undefined)?.reprotecting === addressOf(old);

export async function reprotect(input: Input, ctx: ActionContext): Promise<Output> {
  const s = await survey(input, ctx);
  if (s.unpromoted) return reprotected(s, { changed: false, simulated: false, converged_offset: null });
  const changed = !s.following || earlierFollow(s.old);
  const partial = { previous: { role: 'master', master: null }, target: { role: 'replica', master: addressOf(s.to) } };
  try {
    if (!s.following) {
      ctx.heartbeat({ phase: 'following', reprotecting: addressOf(s.old) });
      await follow(s, ctx);
    }
    const offset = await converge(s, input.converge_timeout, ctx);
    ctx.log(
      'info',
      `${addressOf(s.old)} follows ${addressOf(s.to)} at offset ${offset}${s.diverged ? `; ${s.diverged} bytes it took after the promotion were discarded` : ''}`,
    );
    return reprotected(s, { changed, simulated: false, converged_offset: offset });
  } catch (error) {
    throw changed ? withPartial(error, partial) : error;
  }
}

/** A drill of the failback: both servers read and checked; nothing is set. */
export async function simulateReprotect(input: Input, ctx: ActionContext): Promise<Output> {
  const s = await survey(input, ctx);
  if (!s.unpromoted && !s.following) {
    const lost = s.diverged === null ? '' : ` (${s.diverged} bytes it took after the promotion would be discarded)`;
    s.proved.push(
      `would set masterauth and run REPLICAOF ${s.to.host} ${s.to.port} on ${addressOf(s.old)}: its data replaced by a copy of ${addressOf(s.server)}'s${lost}`,
    );
  }
  ctx.log('info', s.proved.at(-1)!);
  return reprotected(s, { changed: !s.unpromoted && !s.following, simulated: true, preflight: s.proved, converged_offset: null });
}
