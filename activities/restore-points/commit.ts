// Committing a step's restore point: the manifest fields every kind fills the same way (object, digest, times, origin, labels), and the ones the backend adds.
import { createHash } from 'node:crypto';
import type { Digest } from './digest.ts';
import type { ManifestFields, PointDraft } from './index.ts';
import type { RestorePoint } from './manifest.ts';
import { stepOrigin } from './origin.ts';

/** The step that takes the point: its run and step, and the inputs every backup action has. */
interface StepOf {
  input: { set_id?: string; labels: Record<string, string> };
  ctx: { runId: string; step: string };
}

/** What the manifest holds beyond what the helpers fill: the source, the tool, and what the kind adds. */
type BackendFields = Omit<
  ManifestFields,
  'object' | 'size' | 'sha256' | 'objects' | 'external' | 'started_at' | 'completed_at' | 'set_id' | 'run_id' | 'step' | 'labels'
>;

function stepFields(started_at: string, { input, ctx }: StepOf) {
  return { started_at, completed_at: new Date().toISOString(), ...stepOrigin(input, ctx), labels: input.labels };
}

/** Commits the draft streamIntoPoint filled: its one object with the size and sha256 that went by. */
export function commitStreamed(
  draft: PointDraft,
  streamed: StepOf & { object: string; digest: Digest; started_at: string },
  fields: BackendFields,
): Promise<RestorePoint> {
  const { object, digest, started_at } = streamed;
  return draft.commit({ object, size: digest.bytes, sha256: digest.sha256, ...stepFields(started_at, streamed), ...fields });
}

/**
 * Commits a point whose data stays in the backend (snapshots a cluster or cloud keeps): no
 * objects, the backend's records as `external`, and their sha256 as the point's digest.
 */
export function commitExternal(
  draft: PointDraft,
  point: StepOf & { external: NonNullable<ManifestFields['external']>; size?: number; started_at: string },
  fields: BackendFields,
): Promise<RestorePoint> {
  const sha256 = createHash('sha256').update(JSON.stringify(point.external)).digest('hex');
  return draft.commit({ object: '', size: point.size ?? 0, sha256, objects: [], external: point.external, ...stepFields(point.started_at, point), ...fields });
}
