// The CSI half of backup.verify: each VolumeSnapshot of a k8s-volume point still there, ready, on the recorded storage snapshot, and restorable into a scratch PVC.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { parseDuration } from '../../contract/duration.ts';
import type { RestorePoint } from '../restore-points/index.ts';
import type { CheckResult, TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { connect, isNotFound, k8sFailure, type Cluster } from './cluster.ts';
import { bound } from './restore-volume.ts';
import type { SnapshotRecord } from './snapshot.ts';
import { readContentIfAny, readSnapshot } from './snapshots.ts';

/** How long a scratch PVC gets to bind (the CSI driver creates a volume from the snapshot) before the step fails without a verdict. */
const BIND_TIMEOUT = '5m';

/** What is wrong with the recorded snapshot as the cluster has it now; undefined: it is there, ready, on the recorded handle. */
async function snapshotProblem(cluster: Cluster, record: SnapshotRecord): Promise<string | undefined> {
  const name = `${record.namespace}/${record.volume_snapshot}`;
  const snapshot = await readSnapshot(cluster, record.namespace, record.volume_snapshot);
  if (!snapshot) return `VolumeSnapshot ${name} is gone`;
  if (snapshot.status?.readyToUse !== true)
    return `VolumeSnapshot ${name} is not ready${snapshot.status?.error?.message ? `: ${snapshot.status.error.message}` : ''}`;
  const contentName = snapshot.status.boundVolumeSnapshotContentName;
  if (contentName !== record.content) return `VolumeSnapshot ${name} is bound to content ${contentName ?? '(none)'}, not the recorded ${record.content}`;
  const content = await readContentIfAny(cluster, record.content);
  const handle = content?.status?.snapshotHandle;
  if (handle !== record.handle) return `content ${record.content} of ${name} names storage snapshot ${handle ?? '(none)'}, not the recorded ${record.handle}`;
  return undefined;
}

function scratchClaim(point: RestorePoint, record: SnapshotRecord): V1PersistentVolumeClaim {
  const name = `rebound-verify-${point.id.toLowerCase()}-${record.pvc}`.slice(0, 253).replace(/[-.]+$/, '');
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: record.namespace, labels: { 'app.kubernetes.io/managed-by': 'rebound', 'rebound.dev/purpose': 'verify' } },
    spec: {
      accessModes: record.access_modes,
      ...(record.storage_class ? { storageClassName: record.storage_class } : {}),
      resources: { requests: { storage: record.requested } },
      dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: record.volume_snapshot },
    },
  };
}

/** A scratch PVC from the snapshot, in its namespace: Bound means the CSI driver made a volume of it. Deleted (and its volume, by the class's policy) whatever happens. */
async function restoreScratch(cluster: Cluster, point: RestorePoint, record: SnapshotRecord, ctx: ActionContext): Promise<string> {
  const claim = scratchClaim(point, record);
  const name = claim.metadata!.name!;
  // A crashed attempt's claim: start over from the snapshot.
  await cluster.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: record.namespace }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  await cluster.core.createNamespacedPersistentVolumeClaim({ namespace: record.namespace, body: claim });
  try {
    return await bound(cluster, record.namespace, name, { timeout: BIND_TIMEOUT }, ctx, Date.now() + parseDuration(BIND_TIMEOUT)!);
  } finally {
    await cluster.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: record.namespace }).catch(() => undefined);
  }
}

/**
 * Each snapshot must still be in the cluster, ready, bound to the recorded content and storage
 * snapshot handle; then a scratch PVC restored from it must bind. A PVC that does not bind in
 * time fails the step without a verdict: a slow provisioner says nothing about the snapshot.
 */
export const testRestore: TestRestore = async (_points, point, input, ctx) => {
  const records = (point.external ?? []) as SnapshotRecord[];
  if (!input.cluster)
    throw new ActionError(
      'invalid_input',
      `its ${records.length} VolumeSnapshot(s) are in the Kubernetes cluster at ${String(point.source.server)}: give backup.verify a cluster: {kubeconfig: <from a secret>} (or in_cluster: true) block`,
      { retryable: false },
    );
  const cluster = connect(input.cluster, ctx);
  const problems: string[] = [];
  const volumes: string[] = [];
  try {
    for (const record of records) {
      const problem = await snapshotProblem(cluster, record);
      if (problem) problems.push(problem);
      else volumes.push(`${record.pvc} → ${await restoreScratch(cluster, point, record, ctx)}`);
      ctx.heartbeat({ phase: 'verifying', pvc: record.pvc });
    }
  } catch (error) {
    throw k8sFailure(error, `verifying the VolumeSnapshots of point ${point.id} in ${cluster.server}`, ctx);
  }
  const check: CheckResult = problems.length
    ? { check: 'snapshots', ok: false, detail: problems.join('; ') }
    : {
        check: 'snapshots',
        ok: true,
        detail: `${records.length} VolumeSnapshot(s) ready on the recorded storage snapshots; scratch PVCs bound (${volumes.join(', ')}) and deleted`,
      };
  return [check];
};
