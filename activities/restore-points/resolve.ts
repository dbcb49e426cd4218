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
  const point = await index.latest(ref.service, { before: ref.before, verified: ref.latest === 'verified' });
  if (!point) {
    const what = `${ref.latest === 'verified' ? 'verified ' : ''}restore point of ${ref.service}${ref.before ? ` before ${ref.before}` : ''}`;
    throw new ActionError('not_found', `no ${what}`, { retryable: false });
  }
  return point;
}
