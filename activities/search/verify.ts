// The search half of backup.verify: the repository verified, the snapshot found SUCCESS, restored into scratch indices, counted, deleted.
import type { FailureCode } from '../../contract/failures.ts';
import type { CheckResult, TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { call, connect, indexPath, type Cluster } from './client.ts';
import { restoreSnapshot } from './restore.ts';
import { recordOf, type SnapshotList, type SnapshotRecord } from './snapshot.ts';

/** Failures that say nothing about the point: the worker could not log in, or was given a bad URL. */
const NOT_A_VERDICT = new Set<FailureCode>(['auth_failed', 'invalid_input']);

/** A failure that is the point's fault (not the network's or the login's) becomes a failed check; anything else is thrown: the point could not be verified. */
async function judged(check: string, work: () => Promise<string>): Promise<CheckResult> {
  try {
    return { check, ok: true, detail: await work() };
  } catch (error) {
    if (error instanceof ActionError && !error.retryable && !NOT_A_VERDICT.has(error.code)) return { check, ok: false, detail: error.message };
    throw error;
  }
}

async function snapshotState(cluster: Cluster, record: SnapshotRecord): Promise<string> {
  const path = `/_snapshot/${encodeURIComponent(record.repository)}/${encodeURIComponent(record.snapshot)}`;
  const found = await call<SnapshotList>(cluster, 'GET', path, `reading snapshot ${record.snapshot}`, { accept: [404] });
  const info = found.body?.snapshots?.[0];
  if (found.status === 404 || !info)
    throw new ActionError('not_found', `snapshot ${record.snapshot} is not in repository ${record.repository}`, { retryable: false });
  if (info.state !== 'SUCCESS') throw new ActionError('backend_error', `snapshot ${record.snapshot} is ${info.state}`, { retryable: false });
  if (info.uuid !== record.uuid)
    throw new ActionError('conflict', `snapshot ${record.snapshot} has uuid ${info.uuid}, not the point's ${record.uuid}: it was taken again`, {
      retryable: false,
    });
  return `${record.snapshot} is SUCCESS with ${info.indices.length} indices`;
}

/**
 * Restores into `rebound-verify-<point id>-<index>` on the cluster the point names (or
 * `scratch`, a cluster URL from a secret with the same repository), and deletes them after.
 */
export const testRestore: TestRestore = async (_points, point, input, ctx) => {
  const record = recordOf(point);
  const cluster = connect({ cluster: input.scratch ?? record.cluster }, ctx);
  const repository = await judged('repository', async () => {
    const nodes = (
      await call<{ nodes?: Record<string, unknown> }>(
        cluster,
        'POST',
        `/_snapshot/${encodeURIComponent(record.repository)}/_verify`,
        `verifying repository ${record.repository}`,
      )
    ).body;
    return `${record.repository} verified by ${Object.keys(nodes?.nodes ?? {}).length} nodes`;
  });
  const snapshot = repository.ok ? await judged('snapshot', () => snapshotState(cluster, record)) : undefined;
  if (!snapshot?.ok) return snapshot ? [repository, snapshot] : [repository];
  const prefix = `rebound-verify-${point.id.toLowerCase()}-`;
  const scratch = record.indices.map((i) => `${prefix}${i.index}`);
  try {
    const restore = await judged('restore', async () => {
      const restored = await restoreSnapshot(cluster, record, { rename_replacement: `${prefix}$1`, wait_for: 'yellow', deadline: Date.now() + 30 * 60_000 });
      return `restored ${restored.map((r) => `${r.from}: ${r.documents} documents`).join(', ')} into scratch indices, as the point recorded`;
    });
    return [repository, snapshot, restore];
  } finally {
    await call(cluster, 'DELETE', `/${indexPath(scratch)}?ignore_unavailable=true`, 'deleting the scratch indices', { accept: [404] }).catch((error: Error) =>
      ctx.log('warn', `could not delete scratch indices ${scratch.join(', ')}: ${error.message}`),
    );
  }
};
