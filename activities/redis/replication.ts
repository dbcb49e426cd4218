// redis.replication: INFO replication on a server (and its master's offset when `primary` is given), lag as an RPO figure, the max_lag limits.
import type { z } from 'zod';
import { redisReplication } from '../../contract/actions/redis-replication.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { parseRedisUrl } from './cli.ts';
import { catchUpWait, checkLimits, describeLag, measureLag, readPrimary, rpo } from './lag.ts';
import { addressOf, readReplication, type ReplicationInfo } from './replication-info.ts';

type Output = z.input<typeof redisReplication.output>;

function link(info: ReplicationInfo): Output['master'] {
  const m = info.master;
  if (!m) return null;
  return {
    address: addressOf(m),
    link_status: m.up ? 'up' : 'down',
    last_io_seconds_ago: m.lastIo,
    link_down_seconds: m.downSince,
    sync_in_progress: m.syncing,
  };
}

function replicas(info: ReplicationInfo): Output['replicas'] {
  return info.replicas.map((r) => ({
    address: r.address,
    state: r.state,
    offset: r.offset,
    lag_bytes: Math.max(0, info.offset - r.offset),
    ack_seconds_ago: r.ackLag,
  }));
}

export const redisReplicationImpl = defineImpl({
  spec: redisReplication,
  async run(input, ctx) {
    const server = parseRedisUrl(input.server);
    const info = await readReplication(server, { signal: ctx.signal, mask: ctx.mask });
    let master: ReplicationInfo | undefined;
    if (info.role === 'replica' && input.primary) {
      const read = await readPrimary(parseRedisUrl(input.primary), info, ctx);
      if (typeof read === 'string') ctx.log('warn', `the master (primary) could not be read: ${read}; lag from INFO's bounds instead`);
      else master = read;
    }
    const { lag } = await measureLag(server, info, master, catchUpWait(input), ctx);
    ctx.log('info', `${addressOf(server)} is a ${info.role}: ${describeLag(lag)}`);
    const output: Output = {
      ...(input.service ? { service: input.service } : {}),
      role: info.role,
      address: addressOf(server),
      offset: info.offset,
      replicas: replicas(info),
      master: link(info),
      ...lag,
      ...rpo(lag, 'replica lag'),
    };
    checkLimits(input, lag);
    return output;
  },
});
