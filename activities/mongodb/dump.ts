// mongodb.dump: every selected collection as mongodump --gzip writes it, streamed into one restore point.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { ClientSession, Db, MongoClient, Timestamp } from 'mongodb';
import { committedOutput, listingSha256, openStepPoint, type PointDraft, type PointObject, type RestorePoint, stepOrigin } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { binaryVersion } from './binaries.ts';
import { gzipObject } from './bson-file.ts';
import { chooseTool, type ResolvedTool } from './database-tools.ts';
import { dumpWithTool } from './dump-tool.ts';
import { identity, mongoFailure, serverInfo, withMongo, type ServerInfo } from './connection.ts';
import { AS_STORED, encodeMetadata, isView, metadataOf, type CollectionEntry } from './metadata.ts';
import { BSON_SUFFIX, fileBase, METADATA_SUFFIX, selectNamespace } from './namespaces.ts';
import { mongodbDump } from '../../contract/actions/mongodb.ts';
import type { z } from 'zod';

type DumpInput = z.output<typeof mongodbDump.input>;
const DRIVER_VERSION = (createRequire(import.meta.url)('mongodb/package.json') as { version: string }).version;
/** The manifest's tool name for points the driver wrote; `tool: mongodump` points say `mongodump`. */
export const DRIVER_TOOL = 'rebound (mongodb driver, mongodump --gzip directory format)';

interface Target {
  db: string;
  entry: CollectionEntry;
}

/** Counters shared by the collections being dumped, reported in heartbeats at most once a second. */
class Progress {
  documents = 0;
  bytes = 0;
  collections = 0;
  private last = 0;
  constructor(
    private readonly ctx: ActionContext,
    private readonly of: number,
  ) {}
  tick(): void {
    if (Date.now() - this.last < 1000) return;
    this.last = Date.now();
    this.ctx.heartbeat({ collections: this.collections, of: this.of, documents: this.documents, bytes: this.bytes });
  }
}

/** Every selected collection and view, database by database, in name order. */
async function listTargets(client: MongoClient, input: DumpInput): Promise<Target[]> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  const targets: Target[] = [];
  for (const { name: db } of [...databases].sort((a, b) => a.name.localeCompare(b.name))) {
    const entries = (await client.db(db).listCollections({}, AS_STORED).toArray()) as CollectionEntry[];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (selectNamespace(db, entry.name, input.include, input.exclude)) targets.push({ db, entry });
    }
  }
  return targets;
}

/** Snapshot reads need a replica set (or sharded cluster) of MongoDB ≥ 5.0; a server that merely accepts the read concern is not enough. */
function checkSnapshot(server: ServerInfo): void {
  if (server.setName && server.maxWireVersion >= 13) return;
  const what = server.setName ? `wire version ${server.maxWireVersion} (MongoDB < 5.0)` : 'no replica set (hello has no setName)';
  throw new ActionError(
    'unsupported',
    `consistency: snapshot needs a MongoDB ≥ 5.0 replica set; this server reports ${what}. Use consistency: collection, or dump a replica set member`,
    { retryable: false },
  );
}

async function putBuffer(draft: PointDraft, name: string, data: Buffer, signal: AbortSignal): Promise<PointObject> {
  await draft.put(name, Readable.from([data]), signal);
  return { name, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Documents read first to size a collection's batches. */
const SAMPLE = 16;

/**
 * Documents per cursor batch: `batch_size`, or fewer when that many of the sampled documents
 * would pass `batch_bytes`. A count alone let 10 KB documents make 10 MB replies, several alive
 * per collection at once (P2m: peak RSS 340 MB at 1,000 documents a batch, 277 at 100).
 */
export function batchSizeFor(sampled: number[], input: Pick<DumpInput, 'batch_size' | 'batch_bytes'>): number {
  if (!sampled.length) return input.batch_size;
  const average = sampled.reduce((sum, n) => sum + n, 0) / sampled.length;
  return Math.max(1, Math.min(input.batch_size, Math.floor(input.batch_bytes / average)));
}

/**
 * The documents of one collection, batch by batch as the server sends them, never decoded
 * (each a slice of the server's reply). The next batch is asked for before this one is
 * handed on, so the server reads while the worker compresses.
 */
async function* rawBatches(db: Db, name: string, input: DumpInput, signal: AbortSignal, count: (n: number) => void, session?: ClientSession) {
  const collection = db.collection(name);
  const options = { raw: true, signal, ...(session ? { session } : {}) };
  const sample = (await collection.find({}, { ...options, limit: SAMPLE }).toArray()) as unknown as Buffer[];
  const batchSize = batchSizeFor(
    sample.map((d) => d.length),
    input,
  );
  const cursor = collection.find({}, { ...options, batchSize });
  try {
    let more = cursor.hasNext();
    while (await more) {
      const documents = cursor.readBufferedDocuments() as unknown as Buffer[];
      count(documents.length);
      more = cursor.hasNext();
      // Awaited on the next turn; this only keeps a failure after the consumer stopped from going unhandled.
      more.catch(() => undefined);
      yield documents;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

async function dumpCollection(
  client: MongoClient,
  target: Target,
  draft: PointDraft,
  input: DumpInput,
  progress: Progress,
  signal: AbortSignal,
  session?: ClientSession,
): Promise<PointObject[]> {
  const db = client.db(target.db);
  const base = fileBase(target.db, target.entry.name);
  const indexes = isView(target.entry) ? [] : await db.collection(target.entry.name).listIndexes(AS_STORED).toArray();
  const metadata = await putBuffer(draft, base + METADATA_SUFFIX, encodeMetadata(metadataOf(target.entry, indexes)), signal);
  progress.collections++;
  // Views are recorded, not read: their documents belong to the collections they show.
  if (isView(target.entry)) return [metadata];
  let documents = 0;
  let stored = 0;
  const batches = rawBatches(db, target.entry.name, input, signal, (n) => ((documents += n), (progress.documents += n), progress.tick()), session);
  const { body, digest } = gzipObject(batches, input.compress, (bytes) => {
    progress.bytes += bytes - stored;
    stored = bytes;
  });
  await draft.put(base + BSON_SUFFIX, body, signal);
  return [{ name: base + BSON_SUFFIX, size: digest.bytes, sha256: digest.sha256, documents }, metadata];
}

/** Runs `work` over `items`, `limit` at a time; the first failure aborts the rest and is thrown once all have stopped. */
async function inParallel<T, R>(items: T[], limit: number, abort: AbortController, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length && !abort.signal.aborted) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failure ??= error;
        abort.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure;
  return results;
}

/** With snapshot reads, one read fixes the cluster time before the collections are read side by side. */
async function pinSnapshot(client: MongoClient, targets: Target[], session: ClientSession): Promise<Timestamp | undefined> {
  const first = targets.find((t) => !isView(t.entry));
  if (first) await client.db(first.db).collection(first.entry.name).find({}, { session, limit: 1 }).toArray();
  return (session as unknown as { snapshotTime?: Timestamp }).snapshotTime;
}

async function dumpAll(client: MongoClient, draft: PointDraft, input: DumpInput, tool: ResolvedTool, ctx: ActionContext) {
  const server = await serverInfo(client);
  if (input.consistency === 'snapshot') checkSnapshot(server);
  const targets = await listTargets(client, input);
  if (!targets.length) throw new ActionError('not_found', 'no collection matches include/exclude', { retryable: false });
  // Objects an earlier attempt left (it died before its manifest) are not part of this one.
  await draft.discard();
  const session = input.consistency === 'snapshot' ? client.startSession({ snapshot: true }) : undefined;
  const abort = new AbortController();
  const signal = AbortSignal.any([ctx.signal, abort.signal]);
  const progress = new Progress(ctx, targets.length);
  try {
    if (tool.tool === 'mongodump') {
      const namespaces = targets.map((t) => ({ db: t.db, collection: t.entry.name }));
      return { server, consistency: { mode: 'collection' }, ...(await dumpWithTool(client, draft, input, namespaces, tool.command, ctx)) };
    }
    const clusterTime = session ? await pinSnapshot(client, targets, session) : undefined;
    const objects = (await inParallel(targets, input.parallel, abort, (t) => dumpCollection(client, t, draft, input, progress, signal, session))).flat();
    const consistency = session ? { mode: 'snapshot', cluster_time: clusterTime ? { t: clusterTime.high, i: clusterTime.low } : null } : { mode: 'collection' };
    return { server, namespaces: targets.map((t) => `${t.db}.${t.entry.name}`), objects, consistency, documents: progress.documents };
  } catch (error) {
    await draft.discard().catch(() => undefined);
    throw mongoFailure(ctx.signal.aborted ? ctx.signal.reason : error, 'dump', ctx.mask);
  } finally {
    await session?.endSession().catch(() => undefined);
  }
}

export const mongodbDumpImpl = defineImpl({
  spec: mongodbDump,
  async run(input, ctx) {
    // Before storage or the server is touched: a missing binary or an impossible snapshot is known now.
    const tool = chooseTool({ choice: input.tool, binary: 'mongodump', path: process.env.PATH, snapshot: input.consistency === 'snapshot' });
    // An earlier attempt may have committed this point and died before reporting it.
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, 'mongodb', ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const source = identity(input.source);
    if (tool.tool === 'driver' && input.tool === 'auto') ctx.log('info', `tool: auto uses the driver (${tool.why})`);
    const started = new Date().toISOString();
    const done = await withMongo(input.source, ctx.mask, (client) => dumpAll(client, draft, input, tool, ctx));
    const point = await draft.commit({
      object: '',
      size: done.objects.reduce((sum, o) => sum + o.size, 0),
      sha256: listingSha256(done.objects),
      objects: done.objects,
      consistency: done.consistency,
      started_at: started,
      completed_at: new Date().toISOString(),
      ...stepOrigin(input, ctx),
      source: { ...source, namespaces: done.namespaces },
      tool: tool.tool === 'mongodump' ? { name: 'mongodump', version: binaryVersion(tool.command) } : { name: DRIVER_TOOL, version: DRIVER_VERSION },
      server_version: done.server.version,
      labels: input.labels,
    });
    ctx.log(
      'info',
      `restore point ${id} of ${input.service} (${point.tool.name}): ${done.namespaces.length} collections, ${done.documents} documents, ${point.size} bytes`,
    );
    return outputOf(point, points.keyOf(point));
  },
});

function outputOf(point: RestorePoint, object: string) {
  const objects = point.objects ?? [];
  return {
    ...committedOutput(point, object),
    collections: objects.filter((o) => o.name.endsWith(METADATA_SUFFIX)).length,
    documents: objects.reduce((sum, o) => sum + (o.documents ?? 0), 0),
    tool: point.tool.name === 'mongodump' ? ('mongodump' as const) : ('driver' as const),
  };
}
