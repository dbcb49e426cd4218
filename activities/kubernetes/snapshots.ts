// VolumeSnapshots and their contents through the snapshot.storage.k8s.io/v1 API: create, wait until ready, describe.
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { isConflict, isNotFound, pause, type Cluster } from './cluster.ts';

const GROUP = 'snapshot.storage.k8s.io';
const VERSION = 'v1';

export interface VolumeSnapshot {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: { volumeSnapshotClassName?: string; source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string } };
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; restoreSize?: string; error?: { message?: string } };
}

export interface VolumeSnapshotContent {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    driver: string;
    deletionPolicy?: string;
    volumeSnapshotClassName?: string;
    source: { snapshotHandle?: string; volumeHandle?: string };
    volumeSnapshotRef?: { namespace?: string; name?: string };
  };
  status?: { snapshotHandle?: string; restoreSize?: number; readyToUse?: boolean; error?: { message?: string } };
}

export async function readSnapshot(cluster: Cluster, namespace: string, name: string): Promise<VolumeSnapshot | undefined> {
  try {
    return (await cluster.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'volumesnapshots', name })) as VolumeSnapshot;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates the snapshot unless an earlier attempt already did (same name), so a retry never takes a second one. */
export async function createSnapshot(cluster: Cluster, namespace: string, body: VolumeSnapshot): Promise<void> {
  try {
    await cluster.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'volumesnapshots',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VolumeSnapshot', ...body },
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

export async function readContent(cluster: Cluster, name: string): Promise<VolumeSnapshotContent> {
  return (await cluster.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'volumesnapshotcontents', name })) as VolumeSnapshotContent;
}

/** A content naming an existing snapshot handle, bound to a VolumeSnapshot in another namespace (how a snapshot crosses namespaces). */
export async function createStaticContent(
  cluster: Cluster,
  name: string,
  source: { driver: string; handle: string; className?: string },
  ref: { namespace: string; name: string },
): Promise<void> {
  const body = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VolumeSnapshotContent',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'rebound' } },
    spec: {
      driver: source.driver,
      // Retain: deleting the copy must never delete the snapshot the point records.
      deletionPolicy: 'Retain',
      source: { snapshotHandle: source.handle },
      ...(source.className ? { volumeSnapshotClassName: source.className } : {}),
      volumeSnapshotRef: { namespace: ref.namespace, name: ref.name },
    },
  };
  try {
    await cluster.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: 'volumesnapshotcontents', body });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

export async function readContentIfAny(cluster: Cluster, name: string): Promise<VolumeSnapshotContent | undefined> {
  try {
    return await readContent(cluster, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The contents Rebound pre-provisioned (copies of a point's snapshot into other namespaces). */
export async function reboundContents(cluster: Cluster): Promise<VolumeSnapshotContent[]> {
  const list = (await cluster.custom.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'volumesnapshotcontents',
    labelSelector: 'app.kubernetes.io/managed-by=rebound',
  })) as { items: VolumeSnapshotContent[] };
  return list.items;
}

/** Deletes a VolumeSnapshot (its controller then deletes or keeps its content, by deletionPolicy); one already gone is fine. */
export async function deleteSnapshot(cluster: Cluster, namespace: string, name: string): Promise<void> {
  try {
    await cluster.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'volumesnapshots', name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function deleteContent(cluster: Cluster, name: string): Promise<void> {
  try {
    await cluster.custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'volumesnapshotcontents', name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export interface ReadySnapshot {
  snapshot: VolumeSnapshot;
  content: VolumeSnapshotContent;
  handle: string;
}

/** Polls until the snapshot is readyToUse (the CSI driver cut it); an error the controller reports fails the step. */
export async function waitReady(
  cluster: Cluster,
  namespace: string,
  name: string,
  wait: { deadline: number; timeout: string; ctx: ActionContext; progress: (state: string) => void },
): Promise<ReadySnapshot> {
  for (;;) {
    const snapshot = await readSnapshot(cluster, namespace, name);
    if (!snapshot) throw new ActionError('not_found', `VolumeSnapshot ${namespace}/${name} disappeared while waiting for it`, { retryable: true });
    const error = snapshot.status?.error?.message;
    if (error) throw new ActionError('backend_error', `VolumeSnapshot ${namespace}/${name} failed: ${wait.ctx.mask(error)}`, { retryable: false });
    const contentName = snapshot.status?.boundVolumeSnapshotContentName;
    if (snapshot.status?.readyToUse && contentName) {
      const content = await readContent(cluster, contentName);
      const handle = content.status?.snapshotHandle ?? content.spec.source.snapshotHandle;
      if (handle) return { snapshot, content, handle };
    }
    const state = contentName ? `bound to ${contentName}, not ready yet` : 'waiting for the snapshot controller';
    wait.progress(state);
    if (Date.now() > wait.deadline)
      throw new ActionError(
        'timeout',
        `VolumeSnapshot ${namespace}/${name} was not readyToUse within ${wait.timeout} (${state}); is the CSI driver's snapshotter running?`,
        { retryable: false },
      );
    await pause(1000, wait.ctx.signal);
  }
}
