// redis.promote: lag measured, then REPLICAOF NO ONE on a replica, idempotent on retry; a drill's preflight; `operation: reprotect` (reprotect.ts) is its revert.
import type { z } from 'zod';
import { redisPromote } from '../../contract/actions/redis-replication.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { parseRedisUrl, redisCommand, type RedisTarget } from './cli.ts';
import { catchUpWait, checkLimits, describeLag, measureLag, readPrimary, rpo, type Lag } from './lag.ts';
import { activityInfo, addressOf, checkExpected, masterAddress, readReplication, wasPromoted, type ReplicationInfo } from './replication-info.ts';
import { reprotect, simulateReprotect } from './reprotect.ts';

type Input = z.output<typeof redisPromote.input>;
type Output = z.input<typeof redisPromote.output>;

/** What the step knows about its promotion; in every heartbeat from just before REPLICAOF NO ONE, so a retry can adopt it. */
interface Promoting {
  address: string;
  /** The replica's replication ID before promotion: the promoted server keeps it as master_replid2. */
  replid: string;
  previous_master: string | null;
  lag: Lag;
  promoted_at: string | null;
}

const opts = (ctx: ActionContext) => ({ signal: ctx.signal, mask: ctx.mask });

/** This step's earlier attempt's record of promoting `address`, from its last heartbeat. */
function earlierRecord(address: string): Promoting | undefined {
  const promoting = (activityInfo().details as { promoting?: Promoting } | undefined)?.promoting;
  return promoting?.address === address ? promoting : undefined;
}

function promoted(record: Promoting, fields: Pick<Output, 'changed' | 'simulated' | 'preflight'>): Output {
  return {
    operation: 'promote',
    address: record.address,
    previous: { role: 'replica', master: record.previous_master },
    current: { role: 'master', master: null },
    ...fields,
    previous_master: record.previous_master,
    promoted_at: record.promoted_at,
    ...record.lag,
    ...rpo(record.lag, 'replica lag at promotion'),
    converged_offset: null,
    diverged_bytes: null,
  };
}

/** The checks before a promotion, a drill's too: expect_current, the lag (against the master when it answers), the limits. */
async function measure(input: Input, server: RedisTarget, info: ReplicationInfo, ctx: ActionContext): Promise<{ record: Promoting; proved: string[] }> {
  const address = addressOf(server);
  const link = info.master!;
  const proved = [`${address} answers and is a replica of ${masterAddress(info)} (link ${link.up ? 'up' : 'down'})`];
  proved.push(...checkExpected(input.expect_current, info, address));
  let master: ReplicationInfo | undefined;
  if (input.primary) {
    const read = await readPrimary(parseRedisUrl(input.primary), info, ctx);
    if (typeof read === 'string') {
      ctx.log('warn', `the master (primary) could not be read: ${read}; the lag is INFO's bound instead`);
      proved.push(`the master did not answer (${read}): the lag is INFO's bound`);
    } else master = read;
  }
  const { lag } = await measureLag(server, info, master, catchUpWait(input), ctx);
  proved.push(`lag: ${describeLag(lag)}`, ...checkLimits(input, lag));
  return { record: { address, replid: info.replid, previous_master: masterAddress(info), lag, promoted_at: null }, proved };
}

/**
 * The server is a master already. An earlier attempt of this step that promoted it left its
 * record in the heartbeat (matched by the replication ID the server kept); a retry whose
 * record was lost (heartbeats are throttled) accepts the server's own account — it was
 * promoted from a replica, from the primary's history when the primary answers. Anything
 * else is not this step's promotion, and nothing is done.
 */
async function adopt(input: Input, server: RedisTarget, info: ReplicationInfo, ctx: ActionContext): Promise<Output> {
  const address = addressOf(server);
  const record = earlierRecord(address);
  if (record && info.replid2 === record.replid) {
    ctx.log('info', `${address} was promoted by an earlier attempt of this step; not promoting it again`);
    return promoted(record, { changed: true, simulated: false });
  }
  if (activityInfo().attempt > 1 && wasPromoted(info)) {
    const primary = input.primary ? parseRedisUrl(input.primary) : undefined;
    const read = primary ? await readPrimary(primary, info, ctx) : undefined;
    if (read && typeof read !== 'string' && read.replid !== info.replid2) {
      throw new ActionError('conflict', `${address} is a master promoted from another history than ${addressOf(primary!)}'s; left alone`, { retryable: false });
    }
    ctx.log('info', `${address} is a master promoted at offset ${info.secondOffset - 1}, taken as this step's earlier attempt (its record was lost)`);
    const lag: Lag = {
      master_offset: null,
      replica_offset: info.secondOffset - 1,
      lag_bytes: null,
      lag_seconds: null,
      rpo_seconds: null,
      lag_method: 'unknown',
      measured_at: null,
    };
    return promoted(
      { address, replid: info.replid2, previous_master: primary ? addressOf(primary) : null, lag, promoted_at: null },
      { changed: true, simulated: false },
    );
  }
  throw new ActionError('conflict', `${address} is a master, not a replica: nothing to promote, nothing changed`, { retryable: false });
}

async function promote(input: Input, ctx: ActionContext): Promise<Output> {
  const server = parseRedisUrl(input.server);
  let stillReplica = false;
  let record: Promoting;
  try {
    const info = await readReplication(server, opts(ctx));
    if (info.role === 'master') return await adopt(input, server, info, ctx);
    stillReplica = true;
    ({ record } = await measure(input, server, info, ctx));
  } catch (error) {
    // Still a replica (or a first attempt that could not read it): this step changed nothing.
    if (stillReplica || activityInfo().attempt === 1) throw withPartial(error, { changed: false });
    throw error;
  }
  ctx.heartbeat({ phase: 'promoting', promoting: record });
  try {
    await redisCommand(server, ['REPLICAOF', 'NO', 'ONE'], opts(ctx));
    record.promoted_at = new Date().toISOString();
    ctx.heartbeat({ phase: 'promoted', promoting: record });
    const after = await readReplication(server, opts(ctx));
    if (after.role !== 'master') throw new ActionError('backend_error', `${record.address} answered REPLICAOF NO ONE but is still a ${after.role}`);
  } catch (error) {
    throw withPartial(error, { previous: { role: 'replica', master: record.previous_master }, target: { role: 'master', master: null } });
  }
  ctx.log('info', `promoted ${record.address} (it followed ${record.previous_master}); lag just before: ${describeLag(record.lag)}`);
  return promoted(record, { changed: true, simulated: false });
}

/** A drill: reachable, a replica, expect_current, lag within the limits; REPLICAOF is never sent. */
async function simulatePromote(input: Input, ctx: ActionContext): Promise<Output> {
  const server = parseRedisUrl(input.server);
  const info = await readReplication(server, opts(ctx));
  if (info.role === 'master') throw new ActionError('conflict', `${addressOf(server)} is a master, not a replica: nothing to promote`, { retryable: false });
  const { record, proved } = await measure(input, server, info, ctx);
  proved.push(`would run REPLICAOF NO ONE on ${record.address}, which then stops following ${record.previous_master}`);
  ctx.log('info', proved.at(-1)!);
  return promoted(record, { changed: true, simulated: true, preflight: proved });
}

/** Drill failures say they are the preflight's. */
async function preflight(run: () => Promise<Output>): Promise<Output> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ActionError)) throw error;
    throw new ActionError(error.code, `preflight failed: ${error.message}`, { retryable: error.retryable, cause: error });
  }
}

export const redisPromoteImpl = defineImpl({
  spec: redisPromote,
  run: (input, ctx) => (input.operation === 'reprotect' ? reprotect(input, ctx) : promote(input, ctx)),
  simulate: (input, ctx) => preflight(() => (input.operation === 'reprotect' ? simulateReprotect(input, ctx) : simulatePromote(input, ctx))),
});
