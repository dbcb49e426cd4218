// restore_points.prune for k8s-volume points: deletes the VolumeSnapshots a point names, and the copies Rebound pre-provisioned from them.
import type { PruneHook } from '../restore-points/actions.ts';
import type { RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { connect, k8sFailure, pause, type Cluster } from './cluster.ts';
import type { SnapshotRecord } from './snapshot.ts';
import { deleteContent, deleteSnapshot, readContentIfAny, readSnapshot, reboundContents, type VolumeSnapshotContent } from './snapshots.ts';

/** How long the snapshot controller and the CSI driver get to finish a deletion before the point is kept for the next prune. */
const GONE_WITHIN_MS = 120_000;

interface Pruning {
  cluster: Cluster;
  point: RestorePoint;
  ctx: ActionContext;
  /** The point was taken through another API server address: "not found" may mean "not in this cluster". */
  elsewhere: boolean;
}

/**
 * k8s.restore_volume's copies into other namespaces: a Retain content naming the record's
 * handle and the VolumeSnapshot bound to it. Deleting them never deletes the storage snapshot,
 * and they must go first: once it is gone they would name nothing.
 */
async function deleteCopies(p: Pruning, record: SnapshotRecord, contents: VolumeSnapshotContent[]): Promise<void> {
  for (const content of contents.filter((c) => c.spec.driver === record.driver && c.spec.source.snapshotHandle === record.handle)) {
    const ref = content.spec.volumeSnapshotRef;
    if (ref?.namespace && ref.name) {
      const copy = await readSnapshot(p.cluster, ref.namespace, ref.name);
      if (copy?.spec.source.volumeSnapshotContentName === content.metadata.name) await deleteSnapshot(p.cluster, ref.namespace, ref.name);
    }
    await deleteContent(p.cluster, content.metadata.name);
    p.ctx.log('info', `deleted the copy ${ref?.namespace}/${ref?.name} (content ${content.metadata.name}) of ${record.volume_snapshot}`);
  }
}

/** Waits until the VolumeSnapshot is gone and, when its content's policy is Delete, the content too: only then has the driver deleted the data. */
async function waitGone(p: Pruning, record: SnapshotRecord, content: VolumeSnapshotContent | undefined): Promise<void> {
  const name = `${record.namespace}/${record.volume_snapshot}`;
  const deadline = Date.now() + GONE_WITHIN_MS;
  for (;;) {
    const snapshot = await readSnapshot(p.cluster, record.namespace, record.volume_snapshot);
    const left = content?.spec.deletionPolicy === 'Delete' ? await readContentIfAny(p.cluster, record.content) : undefined;
    if (!snapshot && !left) return;
    p.ctx.heartbeat({ phase: 'pruning', point: p.point.id, volume_snapshot: name, content: left ? record.content : undefined });
    if (Date.now() > deadline) {
      const why = left?.status?.error?.message ?? snapshot?.status?.error?.message;
      const what = snapshot ? `VolumeSnapshot ${name}` : `its content ${record.content} (policy Delete)`;
      throw new ActionError(
        'timeout',
        `${what} was still there ${GONE_WITHIN_MS / 1000}s after its deletion${why ? `: ${p.ctx.mask(why)}` : ' (is it the dataSource of a PVC being provisioned, or is the CSI snapshotter down?)'}`,
        { retryable: true },
      );
    }
    await pause(1000, p.ctx.signal);
  }
}

async function pruneOne(p: Pruning, record: SnapshotRecord, contents: VolumeSnapshotContent[]): Promise<void> {
  const name = `${record.namespace}/${record.volume_snapshot}`;
  await deleteCopies(p, record, contents);
  const snapshot = await readSnapshot(p.cluster, record.namespace, record.volume_snapshot);
  const content = await readContentIfAny(p.cluster, record.content);
  if (!snapshot && !content && p.elsewhere)
    throw new ActionError(
      'invalid_input',
      `neither VolumeSnapshot ${name} nor its content ${record.content} is in ${p.cluster.server}, and the point was taken in ${String(p.point.source.server)}: give the cluster the point was taken in`,
      { retryable: false },
    );
  if (content?.spec.deletionPolicy === 'Retain')
    p.ctx.log('warn', `content ${record.content} of ${name} has deletionPolicy Retain: the storage snapshot ${record.handle} stays, as its class asks`);
  await deleteSnapshot(p.cluster, record.namespace, record.volume_snapshot);
  await waitGone(p, record, content);
}

/** Deletes every VolumeSnapshot the point records, in the cluster of prune's `cluster:` block; one already gone (by hand, an earlier prune) is fine. */
export const prune: PruneHook = async (point, input, ctx) => {
  const records = (point.external ?? []) as SnapshotRecord[];
  if (!input.cluster)
    throw new ActionError(
      'invalid_input',
      `its ${records.length} VolumeSnapshot(s) are in the Kubernetes cluster at ${String(point.source.server)}: give restore_points.prune a cluster: {kubeconfig: <from a secret>} (or in_cluster: true) block to delete them`,
      { retryable: false },
    );
  const cluster = connect(input.cluster, ctx);
  const p: Pruning = { cluster, point, ctx, elsewhere: !input.cluster.in_cluster && point.source.server !== cluster.server };
  try {
    const contents = await reboundContents(cluster);
    for (const record of records) await pruneOne(p, record, contents);
  } catch (error) {
    throw k8sFailure(error, `deleting the VolumeSnapshots of point ${point.id} in ${cluster.server}`, ctx);
  }
};
