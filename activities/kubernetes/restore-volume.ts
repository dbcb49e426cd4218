// k8s.restore_volume: new PVCs from a snapshot point (dataSource), in the snapshot's namespace or, through a copied content, another one.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { z } from 'zod';
import { k8sRestoreVolume } from '../../contract/actions/kubernetes-backup.ts';
import { parseDuration } from '../../contract/duration.ts';
import { openRestorePoints, restoredOutput } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, isConflict, isNotFound, k8sFailure, pause, type Cluster } from './cluster.ts';
import { VOLUME_KIND, type SnapshotRecord } from './snapshot.ts';
import { createSnapshot, createStaticContent, waitReady } from './snapshots.ts';

type Input = z.output<typeof k8sRestoreVolume.input>;

/** The VolumeSnapshot a new PVC in `namespace` can name: the recorded one, or a copy bound to a content with the same handle. */
async function snapshotIn(cluster: Cluster, record: SnapshotRecord, input: Input, pointId: string, ctx: ActionContext, deadline: number): Promise<string> {
  if (record.namespace === input.namespace) return record.volume_snapshot;
  const name = `${record.volume_snapshot}-copy`.slice(0, 253);
  const contentName = `rebound-${pointId.toLowerCase()}-${record.pvc}-${input.namespace}`.slice(0, 253).replace(/[-.]+$/, '');
  await createStaticContent(
    cluster,
    contentName,
    { driver: record.driver, handle: record.handle, className: record.snapshot_class },
    { namespace: input.namespace, name },
  );
  await createSnapshot(cluster, input.namespace, {
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'rebound' } },
    spec: { ...(record.snapshot_class ? { volumeSnapshotClassName: record.snapshot_class } : {}), source: { volumeSnapshotContentName: contentName } },
  });
  await waitReady(cluster, input.namespace, name, { deadline, timeout: input.timeout, ctx, progress: (state) => ctx.heartbeat({ phase: 'copying', state }) });
  return name;
}

function claimFor(record: SnapshotRecord, input: Input, snapshot: string): V1PersistentVolumeClaim {
  const storageClass = input.storage_class ?? record.storage_class;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: `${record.pvc}${input.name_suffix}`, namespace: input.namespace, labels: { 'app.kubernetes.io/managed-by': 'rebound' } },
    spec: {
      accessModes: record.access_modes,
      ...(storageClass ? { storageClassName: storageClass } : {}),
      resources: { requests: { storage: record.requested } },
      dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: snapshot },
    },
  };
}

/** Waits until the PVC is Bound; past the deadline, fails naming its last events. */
export async function bound(
  cluster: Cluster,
  namespace: string,
  name: string,
  input: { timeout: string },
  ctx: ActionContext,
  deadline: number,
): Promise<string> {
  for (;;) {
    const pvc = await cluster.core.readNamespacedPersistentVolumeClaim({ name, namespace });
    if (pvc.status?.phase === 'Bound' && pvc.spec?.volumeName) return pvc.spec.volumeName;
    ctx.heartbeat({ phase: 'binding', pvc: name, state: pvc.status?.phase ?? 'Pending' });
    if (Date.now() > deadline) {
      const events = await cluster.core
        .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })
        .then((e) =>
          e.items
            .map((i) => i.message)
            .filter(Boolean)
            .slice(-3),
        )
        .catch(() => []);
      throw new ActionError('timeout', `PVC ${namespace}/${name} was not Bound within ${input.timeout}${events.length ? `: ${events.join('; ')}` : ''}`, {
        retryable: false,
      });
    }
    await pause(1000, ctx.signal);
  }
}

async function restoreOne(cluster: Cluster, record: SnapshotRecord, input: Input, pointId: string, ctx: ActionContext, deadline: number) {
  const snapshot = await snapshotIn(cluster, record, input, pointId, ctx, deadline);
  const claim = claimFor(record, input, snapshot);
  const name = claim.metadata!.name!;
  try {
    await cluster.core.createNamespacedPersistentVolumeClaim({ namespace: input.namespace, body: claim });
  } catch (error) {
    if (!isConflict(error)) throw error;
    // Made by an earlier attempt of this step, or someone else's: only the first is ours to reuse.
    const existing = await cluster.core.readNamespacedPersistentVolumeClaim({ name, namespace: input.namespace });
    if (existing.spec?.dataSource?.name !== snapshot)
      throw new ActionError(
        'conflict',
        `PVC ${input.namespace}/${name} already exists and was not restored from ${snapshot}; choose a name_suffix or another namespace`,
        {
          retryable: false,
        },
      );
  }
  return { name, from: record.pvc, volume: await bound(cluster, input.namespace, name, input, ctx, deadline) };
}

export const k8sRestoreVolumeImpl = defineImpl({
  spec: k8sRestoreVolume,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== VOLUME_KIND)
      throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not a Kubernetes volume snapshot`, { retryable: false });
    const records = ((point.external ?? []) as SnapshotRecord[]).filter((r) => !input.pvcs || input.pvcs.includes(r.pvc));
    if (!records.length) throw new ActionError('not_found', `restore point ${point.id} has none of the PVCs ${input.pvcs?.join(', ')}`, { retryable: false });
    const cluster = connect(input.cluster, ctx);
    const deadline = Date.now() + parseDuration(input.timeout)!;
    const pvcs = [];
    try {
      for (const record of records) pvcs.push(await restoreOne(cluster, record, input, point.id, ctx, deadline));
    } catch (error) {
      if (isNotFound(error)) throw k8sFailure(error, `restoring into ${input.namespace} (does the namespace exist?)`, ctx);
      throw k8sFailure(error, `restoring volumes into ${input.namespace} of ${cluster.server}`, ctx);
    }
    ctx.log('info', `restored ${pvcs.length} PVCs from ${point.id} into ${input.namespace}`);
    return { ...restoredOutput(point), namespace: input.namespace, pvcs };
  },
});
