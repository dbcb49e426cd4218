// k8s.snapshot: VolumeSnapshots of PVCs, waited until readyToUse, recorded as a restore point whose data stays in the storage system.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { z } from 'zod';
import { k8sSnapshot } from '../../contract/actions/kubernetes-backup.ts';
import { parseDuration } from '../../contract/duration.ts';
import { commitExternal, committedOutput, openStepPoint, type RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, k8sFailure, type Cluster } from './cluster.ts';
import { createSnapshot, waitReady } from './snapshots.ts';

import { K8S_VOLUME_KIND as VOLUME_KIND } from './kind.ts';

export { VOLUME_KIND };
type Input = z.output<typeof k8sSnapshot.input>;

/** What a point records about each snapshot: enough to restore it in this cluster or to find it in the storage system. */
export interface SnapshotRecord {
  pvc: string;
  namespace: string;
  volume_snapshot: string;
  content: string;
  handle: string;
  driver: string;
  snapshot_class: string;
  restore_size: string;
  storage_class: string | null;
  access_modes: string[];
  requested: string;
  [key: string]: unknown;
}

/** Same name on every attempt of a step: a retry finds the snapshot the crashed attempt created instead of cutting another. */
export const snapshotName = (pointId: string, pvc: string) => `rebound-${pointId.toLowerCase()}-${pvc}`.slice(0, 253).replace(/[-.]+$/, '');

async function claims(cluster: Cluster, input: Input): Promise<V1PersistentVolumeClaim[]> {
  const namespace = input.namespace;
  if (input.pvcs) return Promise.all(input.pvcs.map((name) => cluster.core.readNamespacedPersistentVolumeClaim({ name, namespace })));
  const list = await cluster.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: input.selector! });
  if (!list.items.length) throw new ActionError('not_found', `no PVC in ${namespace} matches the selector "${input.selector}"`, { retryable: false });
  return list.items;
}

async function snapshotOne(
  cluster: Cluster,
  input: Input,
  pointId: string,
  pvc: V1PersistentVolumeClaim,
  ctx: ActionContext,
  deadline: number,
): Promise<SnapshotRecord> {
  const claim = pvc.metadata!.name!;
  if (pvc.status?.phase !== 'Bound')
    throw new ActionError('conflict', `PVC ${input.namespace}/${claim} is ${pvc.status?.phase ?? 'not bound'}: there is no volume to snapshot`, {
      retryable: false,
    });
  const name = snapshotName(pointId, claim);
  await createSnapshot(cluster, input.namespace, {
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'rebound', 'rebound.dev/service': input.service } },
    spec: { volumeSnapshotClassName: input.snapshot_class, source: { persistentVolumeClaimName: claim } },
  });
  const ready = await waitReady(cluster, input.namespace, name, {
    deadline,
    timeout: input.timeout,
    ctx,
    progress: (state) => ctx.heartbeat({ phase: 'snapshotting', pvc: claim, state }),
  });
  return {
    pvc: claim,
    namespace: input.namespace,
    volume_snapshot: name,
    content: ready.content.metadata.name,
    handle: ready.handle,
    driver: ready.content.spec.driver,
    snapshot_class: input.snapshot_class,
    restore_size: ready.snapshot.status?.restoreSize ?? String(ready.content.status?.restoreSize ?? ''),
    storage_class: pvc.spec?.storageClassName ?? null,
    access_modes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
    requested: pvc.spec?.resources?.requests?.storage ?? '1Gi',
  };
}

export const k8sSnapshotImpl = defineImpl({
  spec: k8sSnapshot,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, VOLUME_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const cluster = connect(input.cluster, ctx);
    const started = new Date().toISOString();
    const deadline = Date.now() + parseDuration(input.timeout)!;
    const records: SnapshotRecord[] = [];
    try {
      for (const pvc of await claims(cluster, input)) records.push(await snapshotOne(cluster, input, id, pvc, ctx, deadline));
    } catch (error) {
      throw k8sFailure(error, `snapshotting PVCs in ${input.namespace} of ${cluster.server}`, ctx);
    }
    const point = await commitExternal(
      draft,
      { external: records, started_at: started, input, ctx },
      {
        source: { server: cluster.server, namespace: input.namespace, pvcs: records.map((r) => r.pvc) },
        tool: { name: 'rebound (CSI VolumeSnapshot, snapshot.storage.k8s.io/v1)', version: records[0]?.driver ?? 'unknown' },
        server_version: 'unknown',
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: ${records.length} VolumeSnapshots ready in ${input.namespace}`);
    return outputOf(point, points.keyOf(point));
  },
});

function outputOf(point: RestorePoint, object: string) {
  const records = (point.external ?? []) as SnapshotRecord[];
  return {
    ...committedOutput(point, object),
    snapshots: records.map((r) => ({ pvc: r.pvc, volume_snapshot: r.volume_snapshot, content: r.content, handle: r.handle, restore_size: r.restore_size })),
  };
}
