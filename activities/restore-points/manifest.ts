// Restore-point manifests and verification records: their schemas, stable point ids, the multi-object listing hash, reading and scanning a store.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ObjectStore } from './object-store.ts';
import { MANIFEST, VERIFICATION } from './layout.ts';

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
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const VerificationSchema = z.object({
  status: z.enum(['verified', 'failed']),
  at: z.string(),
  detail: z.string(),
  checks: z.array(z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })),
});
export type Verification = z.infer<typeof VerificationSchema>;

export type PointStatus = 'unverified' | 'verified' | 'failed';

/** A restore point as listed: its manifest and its verification state. */
export interface RestorePoint extends Manifest {
  status: PointStatus;
  verified_at?: string;
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

export async function readPoint(store: ObjectStore, prefix: string): Promise<RestorePoint | undefined> {
  const text = await store.getText(`${prefix}/${MANIFEST}`);
  if (!text) return undefined;
  const manifest = ManifestSchema.parse(JSON.parse(text));
  const verification = await store.getText(`${prefix}/${VERIFICATION}`);
  const v = verification ? VerificationSchema.parse(JSON.parse(verification)) : undefined;
  return { ...manifest, status: v?.status ?? 'unverified', ...(v ? { verified_at: v.at } : {}) };
}

/** Every restore point in a store: what `rebound restore-points sync` rebuilds the index from. */
export async function scanPoints(store: ObjectStore, service?: string): Promise<RestorePoint[]> {
  const points: RestorePoint[] = [];
  for await (const key of store.list(service ? `${service}/` : '')) {
    if (!key.endsWith(`/${MANIFEST}`)) continue;
    const point = await readPoint(store, key.slice(0, -(MANIFEST.length + 1)));
    if (point) points.push(point);
  }
  return points.sort((a, b) => b.completed_at.localeCompare(a.completed_at) || b.id.localeCompare(a.id));
}
