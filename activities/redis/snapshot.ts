// redis.snapshot: `redis-cli --rdb -` streamed through sha256 into a restore point; the server writes nothing to its own disk.
import { Transform } from 'node:stream';
import { redisSnapshot } from '../../contract/actions/redis.ts';
import { commitStreamed, committedOutput, openStepPoint, type RestorePoint, streamIntoPoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { keysIn, parseRedisUrl, redisCli, redisCommand, versionIn } from './cli.ts';

/** The RDB's one object inside its restore point. */
export const RDB_OBJECT = 'dump.rdb';
export const REDIS_KIND = 'redis';

/** An RDB file starts with this magic; anything else (an error text, nothing) is not a snapshot. */
const RDB_MAGIC = Buffer.from('REDIS');

const outputOf = (point: RestorePoint, object: string) => ({ ...committedOutput(point, object), keys: Number(point.source.keys ?? 0) });

export const redisSnapshotImpl = defineImpl({
  spec: redisSnapshot,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, REDIS_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const target = parseRedisUrl(input.source);
    const options = { signal: ctx.signal, mask: ctx.mask };
    const info = await redisCommand(target, ['INFO', 'all'], options);
    const started = new Date().toISOString();
    let head = Buffer.alloc(0);
    const sniff = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (head.length < RDB_MAGIC.length) head = Buffer.concat([head, chunk]).subarray(0, RDB_MAGIC.length);
        done(null, chunk);
      },
    });
    const tool = redisCli(target, ['--rdb', '-'], options);
    const isRdb = (digest: { bytes: number }) => {
      if (!head.equals(RDB_MAGIC))
        throw new ActionError('backend_error', `redis-cli --rdb wrote ${digest.bytes} bytes that are not an RDB file (no REDIS header)`, { retryable: true });
    };
    const { digest } = await streamIntoPoint(draft, RDB_OBJECT, { tool }, ctx, { through: [sniff], settle: isRdb });
    const point = await commitStreamed(
      draft,
      { object: RDB_OBJECT, digest, started_at: started, input, ctx },
      {
        source: { host: target.host, port: target.port, ...(target.user ? { user: target.user } : {}), keys: keysIn(info) },
        tool: { name: 'redis-cli --rdb (replication protocol)', version: 'redis-cli' },
        server_version: versionIn(info),
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes, ${keysIn(info)} keys at the start`);
    return outputOf(point, points.keyOf(point));
  },
});
