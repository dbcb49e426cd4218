// restore_points.prune for search points: deletes the point's snapshot from its repository (DELETE _snapshot/<repo>/<snapshot>).
import type { PruneHook } from '../restore-points/actions.ts';
import { ActionError } from '../runtime/errors.ts';
import { call, connect } from './client.ts';
import { recordOf, type SnapshotList } from './snapshot.ts';

type ErrorBody = { error?: { type?: string } };

/**
 * On prune's `search:` cluster, or the one the point records. A snapshot already gone, or
 * replaced by another of the same name (another uuid), is not the point's to delete; a
 * repository this cluster does not have is refused: "gone" there may only mean "elsewhere".
 */
export const prune: PruneHook = async (point, input, ctx) => {
  const record = recordOf(point);
  const cluster = connect(input.search ?? { cluster: record.cluster }, ctx);
  const path = `/_snapshot/${encodeURIComponent(record.repository)}/${encodeURIComponent(record.snapshot)}`;
  const found = await call<SnapshotList & ErrorBody>(cluster, 'GET', path, `reading snapshot ${record.snapshot}`, { accept: [404] }).catch((error: unknown) => {
    if (error instanceof ActionError && error.code === 'auth_failed' && !input.search)
      throw new ActionError('auth_failed', `${error.message}; points record no credentials: give search: {cluster, username, password} from secrets`, {
        retryable: false,
      });
    throw error;
  });
  if (found.status === 404 && found.body?.error?.type === 'repository_missing_exception')
    throw new ActionError(
      'not_found',
      `repository ${record.repository} is not registered on ${cluster.url}: register it there, or give search: {cluster} of the cluster that has it`,
      { retryable: false },
    );
  const info = found.status === 404 ? undefined : found.body.snapshots?.[0];
  if (!info) {
    ctx.log('info', `snapshot ${record.snapshot} of ${point.id} is already gone from ${record.repository}`);
    return;
  }
  if (info.uuid !== record.uuid) {
    ctx.log('warn', `snapshot ${record.snapshot} in ${record.repository} has uuid ${info.uuid}, not ${record.uuid}: not the point's, left alone`);
    return;
  }
  // 404: deleted between our look and our delete.
  await call(cluster, 'DELETE', path, `deleting snapshot ${record.snapshot} from ${record.repository}`, { accept: [404] });
  ctx.heartbeat({ phase: 'pruning', point: point.id, snapshot: record.snapshot });
};
