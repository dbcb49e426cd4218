// The restore-point domain's one interface: database actions find, write and read points only through it.
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { parseDuration } from '../../contract/duration.ts';
import type { StorageConfig } from '../../contract/storage.ts';
import { closeCatalogs, openIndex, type PointIndex, type PointQuery, type SetQuery } from './catalog.ts';
import { ActionError } from '../runtime/errors.ts';
import { countPointRead, recordPointWritten } from '../runtime/metrics.ts';
import { MANIFEST, objectKey, placeProblem, pointFolder, VERIFICATION, type Place } from './layout.ts';
import { readPoint, restorePointId, scanStore, type Ignored, type Manifest, type RestorePoint, type Verification } from './manifest.ts';
import { defaultStorage, openStore, type ObjectStore } from './object-store.ts';
import { findPoint, type RestorePointRef } from './resolve.ts';
import { signed } from './signature.ts';
import { trustedIndex } from './trusted.ts';

export type { Ignored, PointObject, RestorePoint, Verification } from './manifest.ts';
export { ignoredReport, listingSha256, restorePointId } from './manifest.ts';
export { Digest } from './digest.ts';
export { streamIntoPoint } from './stream.ts';
export { commitExternal, commitStreamed } from './commit.ts';
export { stepOrigin } from './origin.ts';
export { closeCatalogs };

export type { RestorePointRef };

/** What a backup action fills in; the domain adds the format, id, service, kind and storage. */
export type ManifestFields = Omit<Manifest, 'format' | 'id' | 'service' | 'kind' | 'storage'>;

/** A restore point being written: objects first, then `commit` writes the manifest. */
export interface PointDraft {
  readonly id: string;
  /** The point an earlier attempt of the same step committed, re-indexed; undefined if none. */
  committed(): Promise<RestorePoint | undefined>;
  /** Streams one object of the point (e.g. `data.pgdump`, `app/orders.bson.gz`). */
  put(object: string, body: Readable, signal?: AbortSignal): Promise<void>;
  /** Removes whatever was uploaded: without a manifest it never was a restore point. */
  discard(): Promise<void>;
  /** Writes the manifest, last: this is what makes the objects a restore point. */
  commit(fields: ManifestFields): Promise<RestorePoint>;
}

export interface RestorePoints {
  /** The store's URL, without credentials. */
  readonly url: string;
  /** The point a step names (id, or latest/verified before a time); none is not retryable. */
  find(ref: RestorePointRef): Promise<RestorePoint>;
  list(query: PointQuery): Promise<RestorePoint[]>;
  get(id: string): Promise<RestorePoint | undefined>;
  latest(service: string, options: { before?: string; verified?: boolean }): Promise<RestorePoint | undefined>;
  newestSet(query?: SetQuery): Promise<RestorePoint[]>;
  /** Every point in storage, the truth (what retention and sync read), newest first. */
  scan(service?: string): Promise<RestorePoint[]>;
  /** The manifests the last listing of storage passed over, and why (none when the catalog answered). */
  ignored(): Ignored[];
  /** The point as its manifest in storage has it (the index's jsonb copy reorders keys); undefined when storage has none. */
  stored(point: RestorePoint): Promise<RestorePoint | undefined>;
  draft(service: string, kind: string, id: string): PointDraft;
  /** Reads one object of a point (default: its main object). */
  open(point: RestorePoint, object?: string): Promise<Readable>;
  /** The object's key inside the store, for outputs and reports. */
  keyOf(point: RestorePoint, object?: string): string;
  recordVerification(point: RestorePoint, verification: Verification): Promise<RestorePoint>;
  /** Deletes a point: manifest first, so a crash mid-delete never leaves half a point. */
  remove(point: RestorePoint): Promise<void>;
}

/** When an object written now stays locked until, under the store's `object_lock`; undefined without one. */
function lockedUntil(storage: StorageConfig): Date | undefined {
  return storage.object_lock ? new Date(Date.now() + parseDuration(storage.object_lock.retain)!) : undefined;
}

/** Restore points in a store (default: $REBOUND_STORAGE_URL or the embedded file store). */
export function openRestorePoints(storage: StorageConfig = defaultStorage()): RestorePoints {
  const store = openStore(storage);
  const key = storage.manifest_key;
  let ignored: Ignored[] = [];
  const scan = async (service?: string) => {
    const found = await scanStore(store, service, key);
    ignored = found.ignored;
    return found.points;
  };
  const index = trustedIndex(openIndex(store, scan), key);
  return {
    url: store.url,
    find: (ref) => findPoint(index, ref).catch((error: unknown) => refusedFailure(error, ref, store.url, ignored)),
    list: (query) => index.list(query),
    get: (id) => index.get(id),
    latest: (service, options) => index.latest(service, options),
    newestSet: (query) => index.newestSet(query),
    scan,
    ignored: () => ignored,
    stored: (point) => readPoint(store, point, key),
    draft: (service, kind, id) => draft(store, index, { service, kind, id }, key, () => lockedUntil(storage)),
    open: async (point, object = point.object) => countPointRead(point.kind, await store.get(objectKey(point, object))),
    keyOf: (point, object = point.object) => objectKey(point, object),
    async recordVerification(point, verification) {
      // Locked as long as the point: deleting the verdict early would make a verified point count as unverified.
      // Only while that lock lasts: S3 refuses a retention date already past, and a late verdict must still be recorded.
      const lockEnd = point.retain_until && storage.object_lock ? new Date(point.retain_until) : undefined;
      const until = lockEnd && lockEnd.getTime() > Date.now() ? lockEnd : undefined;
      await store.putText(objectKey(point, VERIFICATION), `${JSON.stringify(signed(verification, key), null, 2)}\n`, until);
      const verified: RestorePoint = { ...point, status: verification.status, verified_at: verification.at };
      await index.record(verified);
      return verified;
    },
    async remove(point) {
      // Exactly one point's folder, or nothing: never the service's, never the store's.
      const folder = pointFolder(point);
      // Deleted, for a point that was locked, means gone, not hidden: it no longer lists, and
      // every version of its objects is deleted (S3 refuses that until its retention passes),
      // so the data is not left readable by version id nor billed. A store without a lock keeps
      // the plain delete: on a versioned bucket the bucket's own lifecycle rules the old versions.
      const versions = storage.object_lock || point.retain_until ? 'all' : undefined;
      await store.deletePrefix(`${folder}${MANIFEST}`, versions);
      await store.deletePrefix(folder, versions);
      await index.remove(point.id);
    },
  };
}

/** A point asked for by id that the listing passed over: say why, not that there is none. */
function refusedFailure(error: unknown, ref: RestorePointRef, url: string, ignored: Ignored[]): never {
  const passed = typeof ref === 'string' ? ignored.find((i) => i.key.split('/')[2] === ref) : undefined;
  if (!passed) throw error;
  throw new ActionError('untrusted', `restore point ${ref} in ${url} is not accepted: ${passed.reason} (${passed.key})`, { retryable: false });
}

/**
 * `lock` is when an object written now stays locked until (undefined: no lock). The manifest,
 * written last, is locked longest and records its own date as `retain_until`.
 */
function draft(store: ObjectStore, index: PointIndex, at: Place, key: string | undefined, lock: () => Date | undefined): PointDraft {
  const problem = placeProblem(at);
  if (problem) throw new ActionError('invalid_input', `cannot write a restore point of ${at.service} (${at.kind}): ${problem}`, { retryable: false });
  const folder = pointFolder(at);
  return {
    id: at.id,
    async committed() {
      const point = await readPoint(store, at, key);
      if (point) await index.record(point);
      return point;
    },
    put: (object, body, signal) => store.put(objectKey(at, object), body, signal, lock()),
    async discard() {
      // Under a lock this only hides the partial objects (delete markers): their versions stay until retention passes.
      await store.deletePrefix(folder);
    },
    async commit(fields) {
      const until = lock();
      const unsigned = {
        format: 'rebound.restore-point/v1' as const,
        ...at,
        storage: store.url,
        ...fields,
        ...(until ? { retain_until: until.toISOString() } : {}),
      };
      const manifest: Manifest = signed(unsigned, key);
      await store.putText(objectKey(at, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, until);
      const point: RestorePoint = { ...manifest, status: 'unverified', signature: key ? 'valid' : 'unsigned' };
      await index.record(point);
      // Only what Rebound put in storage: a point kept in its backend (external) wrote nothing here.
      if (!fields.external) recordPointWritten(at.kind, fields.size);
      return point;
    },
  };
}

/** The outputs every backup action reports about the point it committed. */
export function committedOutput(point: RestorePoint, object: string) {
  return {
    restore_point_id: point.id,
    service: point.service,
    object,
    size: point.size,
    sha256: point.sha256,
    storage: point.storage,
    completed_at: point.completed_at,
  };
}

/** The outputs every restore action reports about the point it restored (its age is the service's RPO). */
export function restoredOutput(point: RestorePoint) {
  return { restore_point_id: point.id, service: point.service, restore_point_age_ms: Date.now() - Date.parse(point.completed_at) };
}

/**
 * The point a backup step writes: the same id on every attempt (the step's first scheduled
 * time, run and step), and that point itself when an earlier attempt committed it and died
 * before reporting it — the step then returns it instead of taking a second.
 */
export async function openStepPoint(storage: StorageConfig | undefined, service: string, kind: string, ctx: { runId: string; step: string }) {
  const id = restorePointId(Context.current().info.scheduledTimestampMs, ctx.runId, ctx.step);
  const points = openRestorePoints(storage);
  const draft = points.draft(service, kind, id);
  return { id, points, draft, committed: await draft.committed() };
}
