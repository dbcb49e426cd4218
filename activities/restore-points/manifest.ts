// Restore-point manifests and verification records: their schemas, stable point ids, the multi-object listing hash, reading and scanning a store.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ObjectStore } from './object-store.ts';
import { judge, type Signature } from './signature.ts';
import { claimProblem, MANIFEST, objectKey, placeOfManifest, placeProblem, SERVICE_PATTERN, VERIFICATION, type Place } from './layout.ts';

/** One of several objects of a point (a MongoDB dump's `<db>/<collection>.bson.gz` …). */
export const PointObjectSchema = z.object({
  name: z.string(),
  size: z.number(),
  sha256: z.string(),
  /** Documents (or rows) in the object, where it holds any. */
  documents: z.number().optional(),
});
export type PointObject = z.infer<typeof PointObjectSchema>;

/**
 * A restore point's manifest. Storage is the source of truth: a point exists when its
 * manifest does, and the manifest is written last, after the data object is complete.
 */
export const ManifestSchema = z.object({
  format: z.literal('rebound.restore-point/v1'),
  id: z.string(),
  service: z.string(),
  kind: z.string(),
  object: z.string(),
  size: z.number(),
  sha256: z.string(),
  started_at: z.string(),
  completed_at: z.string(),
  set_id: z.string(),
  run_id: z.string(),
  step: z.string(),
  /** Where it was taken from, without credentials. */
  source: z.record(z.string(), z.unknown()),
  tool: z.object({ name: z.string(), version: z.string() }),
  server_version: z.string(),
  labels: z.record(z.string(), z.string()),
  storage: z.string(),
  /**
   * Points made of several objects list each one; `object` then names the point's folder
   * (''), `size` is their total and `sha256` the hash of their `sha256sum`-style listing
   * (see listingSha256). Absent in single-object points and in manifests written before it.
   */
  objects: z.array(PointObjectSchema).optional(),
  /**
   * Data that stays in the system it was taken in (CSI VolumeSnapshots, search snapshots):
   * what names it there. `sha256` is then the hash of this list's JSON, and `objects` is empty.
   */
  external: z.array(z.record(z.string(), z.unknown())).optional(),
  /** How the source was read (e.g. MongoDB: per collection, or one snapshot at a cluster time). */
  consistency: z.record(z.string(), z.unknown()).optional(),
  /**
   * With `storage.object_lock`: when the manifest's own lock ends (ISO time). It is written
   * last, so every object of the point is unlocked by then; prune keeps the point until it.
   */
  retain_until: z.string().optional(),
  /** HMAC-SHA256 under the store's manifest key over the other fields' canonical JSON (signature.ts); absent when the store has no key. */
  hmac: z.string().optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const VerificationSchema = z.object({
  status: z.enum(['verified', 'failed']),
  at: z.string(),
  detail: z.string(),
  checks: z.array(z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })),
  /** As the manifest's: a verdict written without the store's key does not count. */
  hmac: z.string().optional(),
});
export type Verification = z.infer<typeof VerificationSchema>;

export type PointStatus = 'unverified' | 'verified' | 'failed';

/** A restore point as listed: its manifest and its verification state. */
export interface RestorePoint extends Manifest {
  status: PointStatus;
  verified_at?: string;
  /** Whether its manifest is signed with the store's key (absent on points built by hand). */
  signature?: Signature;
}

/** The manifest inside a point as listed: without what the listing added. */
export function manifestOf(point: RestorePoint): Manifest {
  const { status: _s, verified_at: _v, signature: _g, ...manifest } = point;
  return manifest;
}

/**
 * The same id on every attempt of a step, so a retry after a crash overwrites the partial
 * object of the attempt before instead of leaving a second one.
 */
export function restorePointId(firstScheduledMs: number, runId: string, step: string): string {
  const stamp = new Date(firstScheduledMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${createHash('sha256').update(`${runId}/${step}`).digest('hex').slice(0, 8)}`;
}

/** The hash a multi-object point records as its sha256: of `<sha256>  <name>` lines, sorted by name. */
export function listingSha256(objects: readonly PointObject[]): string {
  const lines = [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((o) => `${o.sha256}  ${o.name}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** A manifest found in a store but not taken as a point, and why: what sync and list report. */
export interface Ignored {
  key: string;
  reason: string;
}

/** The points of a listing of storage, and the manifests it passed over. */
export interface Scan {
  points: RestorePoint[];
  ignored: Ignored[];
}

function parseManifest(text: string): Manifest | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) return `is not a restore-point manifest (${parsed.error.issues.map((i) => i.path.join('.') || 'manifest').join(', ')})`;
  return parsed.data;
}

/**
 * The point whose manifest is at `place`, a string saying why the manifest there is not
 * taken, or undefined when there is none. A manifest is taken only at the place its own
 * service, kind and id name: one planted elsewhere, claiming id `..`, must never steer a
 * delete (or a restore) to another folder.
 */
export async function readPlace(store: ObjectStore, place: Place, key?: string): Promise<RestorePoint | string | undefined> {
  const text = await store.getText(objectKey(place, MANIFEST));
  if (text === undefined) return undefined;
  const manifest = parseManifest(text);
  if (typeof manifest === 'string') return manifest;
  const problem = claimProblem(manifest, place);
  if (problem) return problem;
  const signature = judge(manifest, key);
  if (typeof signature === 'object') return signature.refused;
  const v = parseVerification(await store.getText(objectKey(place, VERIFICATION)), key);
  return { ...manifest, status: v?.status ?? 'unverified', ...(v ? { verified_at: v.at } : {}), signature };
}

/** A verdict that does not parse, or is not signed with the store's key, counts as none: the point is unverified, and still listed. */
function parseVerification(text: string | undefined, key: string | undefined): Verification | undefined {
  if (!text) return undefined;
  try {
    const parsed = VerificationSchema.safeParse(JSON.parse(text));
    if (!parsed.success || typeof judge(parsed.data, key) === 'object') return undefined;
    return parsed.data;
  } catch {
    return undefined;
  }
}

/** The point at a place, or undefined when the manifest there is missing or not taken. */
export async function readPoint(store: ObjectStore, place: Place, key?: string): Promise<RestorePoint | undefined> {
  if (placeProblem(place)) return undefined;
  const point = await readPlace(store, place, key);
  return typeof point === 'object' ? point : undefined;
}

/** Every restore point in a store, and the manifests passed over: what `rebound restore-points sync` rebuilds the index from. */
export async function scanStore(store: ObjectStore, service?: string, manifestKey?: string): Promise<Scan> {
  const scan: Scan = { points: [], ignored: [] };
  if (service !== undefined && !SERVICE_PATTERN.test(service)) return scan;
  for await (const key of store.list(service ? `${service}/` : '')) {
    if (key !== MANIFEST && !key.endsWith(`/${MANIFEST}`)) continue;
    const place = placeOfManifest(key);
    // Deeper keys are objects inside a point's folder, never manifests of their own.
    if (typeof place === 'string') {
      if (key.split('/').length <= 4) scan.ignored.push({ key, reason: place });
      continue;
    }
    const point = await readPlace(store, place, manifestKey);
    if (typeof point === 'object') scan.points.push(point);
    else if (point) scan.ignored.push({ key, reason: point });
  }
  scan.points.sort((a, b) => b.completed_at.localeCompare(a.completed_at) || b.id.localeCompare(a.id));
  return scan;
}

/** Every restore point in a store, newest first. */
export async function scanPoints(store: ObjectStore, service?: string): Promise<RestorePoint[]> {
  return (await scanStore(store, service)).points;
}

/** "ignored 2 manifests: <key>: claims id '..'; …", or undefined when none was. */
export function ignoredReport(ignored: readonly Ignored[]): string | undefined {
  if (!ignored.length) return undefined;
  return `ignored ${ignored.length} manifest${ignored.length === 1 ? '' : 's'}: ${ignored.map((i) => `${i.key}: ${i.reason}`).join('; ')}`;
}
