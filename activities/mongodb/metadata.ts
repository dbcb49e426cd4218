// mongodump's `<collection>.metadata.json.gz`: collection options, index specs, uuid, name, type — and the commands that recreate them.
import { gunzipSync, gzipSync } from 'node:zlib';
import { Binary, BSON, type Document } from 'mongodb';
import { ActionError } from '../runtime/errors.ts';

/** Keeps every BSON type as it came (Int32 stays Int32, a double stays a double): the JSON must say what the server said. */
export const AS_STORED = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** What mongodump writes for a collection (mongo-tools mongodump/metadata_dump.go, field order included). */
export interface Metadata {
  options?: Document;
  indexes: Document[];
  uuid?: string;
  collectionName: string;
  type?: string;
}

/** One entry of listCollections, as the server returns it. */
export interface CollectionEntry {
  name: string;
  type?: string;
  options?: Document;
  info?: { uuid?: unknown; readOnly?: boolean };
}

export const isView = (entry: { type?: string }) => entry.type === 'view';

/** The metadata of a listed collection; views have no indexes (mongodump records none). */
export function metadataOf(entry: CollectionEntry, indexes: Document[]): Metadata {
  const options = entry.options && Object.keys(entry.options).length ? entry.options : undefined;
  const uuid = uuidHex(entry.info?.uuid);
  return {
    ...(options ? { options } : {}),
    indexes: isView(entry) ? [] : indexes,
    ...(uuid ? { uuid } : {}),
    collectionName: entry.name,
    ...(entry.type ? { type: entry.type } : {}),
  };
}

/** mongodump records a collection's UUID (a subtype-4 binary) as 32 hex digits; FerretDB lists it as a string. */
function uuidHex(uuid: unknown): string | undefined {
  if (uuid instanceof Binary) return Buffer.from(uuid.buffer).toString('hex');
  if (typeof uuid === 'string' && /^[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}$/i.test(uuid)) return uuid.replace(/-/g, '').toLowerCase();
  return undefined;
}

/** Canonical Extended JSON, as mongodump writes it, gzipped. */
export function encodeMetadata(metadata: Metadata): Buffer {
  return gzipSync(BSON.EJSON.stringify(metadata, { relaxed: false }));
}

export function decodeMetadata(gzipped: Buffer, name: string): Metadata {
  let parsed: unknown;
  try {
    parsed = BSON.EJSON.parse(gunzipSync(gzipped).toString('utf8'), { relaxed: false });
  } catch (error) {
    throw new ActionError('verification_failed', `${name}: not gzipped Extended JSON: ${(error as Error).message}`, { retryable: false });
  }
  const metadata = parsed as Metadata;
  if (!metadata || typeof metadata.collectionName !== 'string' || !Array.isArray(metadata.indexes))
    throw new ActionError('verification_failed', `${name}: no collectionName or indexes: not mongodump metadata`, { retryable: false });
  return metadata;
}

/** Collection options a server reports but refuses on `create` (legacy MMAPv1 flags). */
const NOT_CREATE_OPTIONS = new Set(['flags', 'autoIndexId']);

/**
 * The `create` command for a collection or view with its recorded options: capped size
 * and count, validator, collation, time series, a view's source and pipeline.
 */
export function createCommand(collection: string, metadata: Metadata): Document {
  const options = Object.fromEntries(Object.entries(metadata.options ?? {}).filter(([k]) => !NOT_CREATE_OPTIONS.has(k)));
  return { create: collection, ...options };
}

/**
 * The `createIndexes` command for the recorded indexes, as mongorestore builds it: every
 * index but `_id_` (the server makes that one), each spec as dumped (key order, partial
 * filters, TTL, text weights, 2dsphere versions) without the `ns` field old servers add
 * and without `v`, so the server builds its current index version (mongorestore's
 * default, without --keepIndexVersion). Undefined when there is nothing to build.
 */
export function createIndexesCommand(collection: string, metadata: Metadata): Document | undefined {
  const indexes = metadata.indexes
    .filter((index) => index.name !== '_id_')
    .map((index) => Object.fromEntries(Object.entries(index).filter(([k]) => k !== 'ns' && k !== 'v')));
  return indexes.length ? { createIndexes: collection, indexes } : undefined;
}
