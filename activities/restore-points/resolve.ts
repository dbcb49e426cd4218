// Finding the restore point a step names: by id, or the latest (verified) one of a service before a time; none found is not retryable.
import type { z } from 'zod';
import { ActionError } from '../runtime/errors.ts';
import type { PointIndex } from './catalog.ts';
import type { RestorePoint } from './manifest.ts';
import type { RestorePointRefSchema } from '../../contract/actions/points.ts';

export type RestorePointRef = z.output<typeof RestorePointRefSchema>;

/** Finds the restore point a step names; not finding one is not retryable. */
export async function findPoint(index: PointIndex, ref: RestorePointRef): Promise<RestorePoint> {
  if (typeof ref === 'string') {
    const point = await index.get(ref);
    if (!point) throw new ActionError('not_found', `no restore point with id ${ref}`, { retryable: false });
    return point;
  }
  const point = ref.restorable_to
    ? await restorableTo(index, ref.service, ref.restorable_to, ref.latest === 'verified')
    : await index.latest(ref.service, { before: ref.before, verified: ref.latest === 'verified' });
  if (!point) {
    const when = ref.before ? ` before ${ref.before}` : ref.restorable_to ? ` restorable to ${ref.restorable_to}` : '';
    const what = `${ref.latest === 'verified' ? 'verified ' : ''}restore point of ${ref.service}${when}`;
    throw new ActionError('not_found', `no ${what}`, { retryable: false });
  }
  return point;
}

/** From when a point can be restored: a point-in-time point from the end of its backup (its window records that), any other at its completion. */
export function restorableFrom(point: RestorePoint): string {
  const from = point.consistency?.restorable_from;
  return typeof from === 'string' ? from : point.completed_at;
}

/**
 * The newest point restorable to `at`. A point-in-time point commits moments after its backup
 * ends, so points completed up to a day after `at` are looked at too. Whether the WAL reaches
 * `at` only the repository knows: the restore checks its live window.
 */
async function restorableTo(index: PointIndex, service: string, at: string, verified: boolean): Promise<RestorePoint | undefined> {
  const bound = new Date(Date.parse(at) + 86_400_000).toISOString();
  const candidates = await index.list({ service, before: bound, status: verified ? ['verified'] : ['verified', 'unverified'], limit: 200 });
  return candidates
    .filter((p) => Date.parse(restorableFrom(p)) <= Date.parse(at))
    .sort((a, b) => Date.parse(restorableFrom(b)) - Date.parse(restorableFrom(a)))[0];
}
