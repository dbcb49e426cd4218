// mongodb.restore with the real mongorestore: the point's selected objects downloaded into a private folder, checked, then mongorestore --gzip --dir.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { Digest, type PointObject, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { checkStored, DocumentCounter } from './bson-file.ts';
import { localFile, restoreArgs, restoreSummary } from './database-tools.ts';
import { privateFolder, runBinary } from './binaries.ts';
import { BSON_SUFFIX } from './namespaces.ts';
import type { Restorable, RestoreOptions, Restored } from './restore.ts';

/**
 * Writes one object to disk, hashing the stored bytes and, for data, counting documents
 * and raw bytes on the way. A hash, size or count that differs from the manifest fails
 * without retry, before mongorestore sees anything.
 */
async function download(points: RestorePoints, point: RestorePoint, object: PointObject, file: string, signal: AbortSignal, onBytes: (bytes: number) => void) {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const digest = new Digest(onBytes);
  const counter = object.name.endsWith(BSON_SUFFIX) ? new DocumentCounter(object.name) : undefined;
  const stages: Transform[] = counter ? [digest, counter] : [digest];
  await pipeline([await points.open(point, object.name), ...stages, createWriteStream(file, { mode: 0o600, flags: 'wx' })], { signal });
  checkStored(object, digest);
  if (counter && object.documents !== undefined && counter.documents !== object.documents)
    throw new ActionError('verification_failed', `${object.name}: holds ${counter.documents} documents; the manifest says ${object.documents}`, {
      retryable: false,
    });
  return { bson: counter?.bson ?? 0 };
}

/**
 * Restores the selected collections (`items`, from restorables: `include` is applied, so
 * nothing else is fetched) with mongorestore: their objects are downloaded and checked
 * first, then one mongorestore run with `--drop`, `--nsInclude`, `--nsFrom/--nsTo` and
 * `--numParallelCollections` as asked. Heartbeats carry mongorestore's latest progress line.
 */
export async function restoreWithTool(
  points: RestorePoints,
  point: RestorePoint,
  items: Restorable[],
  input: RestoreOptions & { target: string },
  command: string,
  ctx: ActionContext,
): Promise<Restored> {
  const total: Restored = { collections: items.length, documents: 0, duplicates: 0, bytes: 0 };
  if (!items.length) return total;
  const folder = await privateFolder('rebound-mongorestore-', input.target);
  const dir = join(folder.dir, 'dump');
  let stderr = '';
  let progress: Record<string, unknown> = { phase: 'download', bytes: 0 };
  const ticker = setInterval(() => ctx.heartbeat(progress), 1000);
  try {
    let downloaded = 0;
    for (const object of items.flatMap((i) => i.files)) {
      const before = downloaded;
      const { bson } = await download(points, point, object, localFile(dir, object.name), ctx.signal, (bytes) => {
        downloaded = before + bytes;
        progress = { phase: 'download', bytes: downloaded, object: object.name };
      });
      total.bytes += bson;
      total.documents += object.documents ?? 0;
    }
    const args = restoreArgs({ config: folder.config, dir, drop: input.drop, include: input.include, namespace: input.namespace, parallel: input.parallel });
    progress = { phase: 'mongorestore' };
    await runBinary(command, args, ctx, (text) => {
      stderr = (stderr + text).slice(-4000);
      const line = text.trim().split('\n').at(-1);
      if (line) progress = { phase: 'mongorestore', progress: ctx.mask(line) };
    });
    const summary = restoreSummary(stderr);
    if (summary) {
      total.documents = summary.restored;
      total.duplicates = summary.failed;
      if (summary.failed) ctx.log('warn', `mongorestore could not insert ${summary.failed} documents (duplicate keys, or documents the target refused)`);
    }
    return total;
  } finally {
    clearInterval(ticker);
    await folder.cleanup();
  }
}
