// mongodb.restore: a point's collections recreated with their options, documents inserted in bounded batches, then indexes.
import { createHash } from 'node:crypto';
import { BSON, MongoBulkWriteError, MongoServerError, type Document, type MongoClient } from 'mongodb';
import type { z } from 'zod';
import { openRestorePoints, restoredOutput, type PointObject, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { readDocuments } from './bson-file.ts';
import { withMongo } from './connection.ts';
import { AS_STORED, createCommand, createIndexesCommand, decodeMetadata, isView, type Metadata } from './metadata.ts';
import { BSON_SUFFIX, includes, mapNamespace, METADATA_SUFFIX, type Namespace } from './namespaces.ts';
import { chooseTool } from './database-tools.ts';
import { restoreWithTool } from './restore-tool.ts';
import { mongodbRestore } from '../../contract/actions/mongodb.ts';

export type RestoreOptions = Pick<z.output<typeof mongodbRestore.input>, 'include' | 'namespace' | 'drop' | 'parallel' | 'batch_bytes'>;

/** One collection (or view) of a point: where it came from, where it goes, its files. */
export interface Restorable {
  from: Namespace;
  to: Namespace;
  metadata: Metadata;
  data?: PointObject;
  /** Its objects in the point: the metadata, then the data if any. */
  files: PointObject[];
}

export interface Restored {
  collections: number;
  documents: number;
  duplicates: number;
  bytes: number;
}

const NAMESPACE_NOT_FOUND = 26;
const DUPLICATE_KEY = 11000;

/** Reads a small object whole, checking it against the manifest. */
async function readSmall(points: RestorePoints, point: RestorePoint, object: PointObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await points.open(point, object.name)) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== object.sha256 || data.length !== object.size)
    throw new ActionError(
      'verification_failed',
      `${object.name}: read ${data.length} bytes with sha256 ${sha256}; the manifest says ${object.size}, ${object.sha256}`,
      {
        retryable: false,
      },
    );
  return data;
}

/** The collections and views of a point that `include` selects, with their target names. */
export async function restorables(points: RestorePoints, point: RestorePoint, options: Pick<RestoreOptions, 'include' | 'namespace'>): Promise<Restorable[]> {
  if (point.kind !== 'mongodb' || !point.objects)
    throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not a MongoDB dump`, { retryable: false });
  const byName = new Map(point.objects.map((o) => [o.name, o]));
  const out: Restorable[] = [];
  for (const object of point.objects.filter((o) => o.name.endsWith(METADATA_SUFFIX))) {
    const metadata = decodeMetadata(await readSmall(points, point, object), object.name);
    const from = { db: object.name.slice(0, object.name.indexOf('/')), collection: metadata.collectionName };
    if (!includes(from, options.include)) continue;
    const data = byName.get(object.name.slice(0, -METADATA_SUFFIX.length) + BSON_SUFFIX);
    out.push({ from, to: mapNamespace(from, options.namespace), metadata, ...(data ? { data } : {}), files: data ? [object, data] : [object] });
  }
  // Collections first, views after: a view's pipeline may name the others.
  return out.sort((a, b) => Number(isView(a.metadata)) - Number(isView(b.metadata)));
}

/** Decodes dumped documents for an insert, keeping every type as dumped (Int32, Long, Decimal128, regex flags …). */
export function documentsFor(raw: Buffer[]): Document[] {
  return raw.map((doc) => BSON.deserialize(doc, AS_STORED));
}

async function prepare(client: MongoClient, item: Restorable, drop: boolean): Promise<void> {
  const db = client.db(item.to.db);
  if (drop) {
    await db.command({ drop: item.to.collection }).catch((error) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
    });
  }
  const exists = await db.listCollections({ name: item.to.collection }, { nameOnly: true }).hasNext();
  if (!exists) await db.command(createCommand(item.to.collection, item.metadata));
}

/** Unordered inserts; documents already there (a retried restore) are counted, not failed on. */
async function insertBatch(client: MongoClient, to: Namespace, docs: Document[]): Promise<number> {
  try {
    await client.db(to.db).collection(to.collection).insertMany(docs, { ordered: false });
    return 0;
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (errors.length && errors.every((e) => e.code === DUPLICATE_KEY)) return errors.length;
    throw error;
  }
}

async function restoreOne(
  client: MongoClient,
  points: RestorePoints,
  point: RestorePoint,
  item: Restorable,
  options: RestoreOptions,
  ctx: ActionContext,
  total: Restored,
) {
  await prepare(client, item, options.drop);
  if (item.data) {
    const source = await points.open(point, item.data.name);
    for await (const batch of readDocuments(source, item.data, options.batch_bytes, ctx.signal)) {
      total.duplicates += await insertBatch(client, item.to, documentsFor(batch));
      total.documents += batch.length;
      total.bytes += batch.reduce((sum, d) => sum + d.length, 0);
      ctx.heartbeat({ collection: `${item.to.db}.${item.to.collection}`, documents: total.documents, bytes: total.bytes });
    }
  }
  const indexes = createIndexesCommand(item.to.collection, item.metadata);
  if (indexes && !isView(item.metadata)) await client.db(item.to.db).command(indexes);
  total.collections++;
}

/** Restores the selected collections, `parallel` at a time (views last, after every collection). */
export async function restoreInto(
  client: MongoClient,
  points: RestorePoints,
  point: RestorePoint,
  options: RestoreOptions,
  ctx: ActionContext,
): Promise<Restored> {
  const items = await restorables(points, point, options);
  const total: Restored = { collections: 0, documents: 0, duplicates: 0, bytes: 0 };
  const collections = items.filter((i) => !isView(i.metadata));
  let next = 0;
  const lane = async () => {
    while (next < collections.length) await restoreOne(client, points, point, collections[next++]!, options, ctx, total);
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, collections.length) }, lane));
  for (const view of items.filter((i) => isView(i.metadata))) await restoreOne(client, points, point, view, options, ctx, total);
  return total;
}

export const mongodbRestoreImpl = defineImpl({
  spec: mongodbRestore,
  async run(input, ctx) {
    const tool = chooseTool({ choice: input.tool, binary: 'mongorestore', path: process.env.PATH });
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    const total =
      tool.tool === 'mongodump'
        ? await restoreWithTool(points, point, await restorables(points, point, input), input, tool.command, ctx)
        : await withMongo(input.target, ctx.mask, (client) => restoreInto(client, points, point, input, ctx));
    const by = tool.tool === 'mongodump' ? tool.command : `the driver (${tool.why})`;
    ctx.log('info', `restored ${total.collections} collections, ${total.documents} documents from ${point.id} with ${by}`);
    return {
      ...restoredOutput(point),
      collections: total.collections,
      documents: total.documents,
      duplicates: total.duplicates,
      restored_bytes: total.bytes,
      tool: tool.tool,
    };
  },
});
