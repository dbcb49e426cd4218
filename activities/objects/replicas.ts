// objects.check and objects.replicate: list both sites, compare, copy what is missing or stale (streamed, bounded), report the lag.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { objectsCheck, objectsReplicate } from '../../contract/actions/objects.ts';
import { parseDuration } from '../../contract/duration.ts';
import type { StorageConfig } from '../../contract/storage.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { compare, listSite, openSite, type Comparison, type Site } from './sites.ts';

/** S3 failures as a person reads them: which site, what it said, and whether a retry can help. */
function s3Failure(error: unknown, site: Site, doing: string, ctx: ActionContext): ActionError {
  if (error instanceof ActionError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const fixed = status === 403 || status === 404 || ['AccessDenied', 'NoSuchBucket', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(e.name ?? '');
  return new ActionError(fixed ? 'auth_failed' : 'backend_error', `${doing} ${site.url}: ${e.name ?? 'error'}: ${ctx.mask(e.message ?? String(error))}`, {
    retryable: !fixed,
  });
}

async function survey(
  input: { source: StorageConfig; replica: StorageConfig },
  ctx: ActionContext,
): Promise<{ source: Site; replica: Site; comparison: Comparison }> {
  const source = openSite(input.source, 'source');
  const replica = openSite(input.replica, 'replica');
  const started = Date.now();
  const progress = (site: string) => (n: number) => ctx.heartbeat({ phase: 'listing', site, objects: n });
  const [a, b] = await Promise.all([
    listSite(source, ctx.signal, progress('source')).catch((e: unknown) => {
      throw s3Failure(e, source, 'listing', ctx);
    }),
    listSite(replica, ctx.signal, progress('replica')).catch((e: unknown) => {
      throw s3Failure(e, replica, 'listing', ctx);
    }),
  ]);
  return { source, replica, comparison: compare(a, b, started) };
}

const report = ({ todo: _todo, ...figures }: Comparison) => figures;

export const objectsCheckImpl = defineImpl({
  spec: objectsCheck,
  async run(input, ctx) {
    const { comparison } = await survey(input, ctx);
    const limit = input.max_lag ? parseDuration(input.max_lag)! : undefined;
    if (limit !== undefined && comparison.lag_ms > limit)
      throw new ActionError(
        'check_failed',
        `the replica lags ${Math.round(comparison.lag_ms / 1000)} s behind (oldest unreplicated: ${comparison.oldest_unreplicated}; ${comparison.missing} missing, ${comparison.stale} stale), more than max_lag ${input.max_lag}`,
        { retryable: false },
      );
    return report(comparison);
  },
});

async function copyOne(source: Site, replica: Site, key: string, signal: AbortSignal): Promise<number> {
  const got = await source.client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.prefix + key }), { abortSignal: signal });
  const upload = new Upload({
    client: replica.client,
    params: { Bucket: replica.bucket, Key: replica.prefix + key, Body: got.Body as Readable, ContentType: got.ContentType },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  });
  const abort = () => void upload.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    await upload.done();
  } finally {
    signal.removeEventListener('abort', abort);
  }
  return got.ContentLength ?? 0;
}

export const objectsReplicateImpl = defineImpl({
  spec: objectsReplicate,
  async run(input, ctx) {
    const { source, replica, comparison } = await survey(input, ctx);
    let next = 0;
    let copied = 0;
    let bytes = 0;
    const lane = async () => {
      while (next < comparison.todo.length) {
        const { key } = comparison.todo[next++]!;
        // Read the total after the await: `bytes += await …` would add to a stale value when lanes overlap.
        const n = await copyOne(source, replica, key, ctx.signal).catch((e: unknown) => {
          throw s3Failure(e, replica, `copying ${key} to`, ctx);
        });
        bytes += n;
        copied++;
        ctx.heartbeat({ phase: 'copying', copied, of: comparison.todo.length, bytes });
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.concurrency, comparison.todo.length) }, lane));
    ctx.log('info', `replicated ${copied} objects (${bytes} bytes) from ${source.url} to ${replica.url}; lag before: ${comparison.lag_ms} ms`);
    return { ...report(comparison), copied, copied_bytes: bytes };
  },
});
