// Deployments and StatefulSets as k8s.scale, k8s.rollout and k8s.wait see them: found by name or selector, their rollout state, their unready pods.
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { k8sFailure, pause, type Cluster } from './cluster.ts';

export type WorkloadKind = 'deployment' | 'statefulset';

export interface Workload {
  ref: string;
  kind: WorkloadKind;
  name: string;
  object: V1Deployment | V1StatefulSet;
}

const kindOf = (ref: string): WorkloadKind => ref.split('/')[0] as WorkloadKind;
const nameOf = (ref: string): string => ref.slice(ref.indexOf('/') + 1);

export async function readWorkload(cluster: Cluster, namespace: string, ref: string): Promise<Workload> {
  const kind = kindOf(ref);
  const name = nameOf(ref);
  const object =
    kind === 'deployment'
      ? await cluster.apps.readNamespacedDeployment({ name, namespace })
      : await cluster.apps.readNamespacedStatefulSet({ name, namespace });
  return { ref, kind, name, object };
}

/** The objects a step names, or that its selector matches, in name order; none found is an error a retry cannot fix. */
export async function findWorkloads(
  cluster: Cluster,
  namespace: string,
  spec: { workloads?: string[] | undefined; selector?: string | undefined },
  ctx: ActionContext,
): Promise<Workload[]> {
  try {
    if (spec.workloads) return await Promise.all(spec.workloads.map((ref) => readWorkload(cluster, namespace, ref)));
    const labelSelector = spec.selector!;
    const [deployments, statefulsets] = await Promise.all([
      cluster.apps.listNamespacedDeployment({ namespace, labelSelector }),
      cluster.apps.listNamespacedStatefulSet({ namespace, labelSelector }),
    ]);
    const found: Workload[] = [
      ...deployments.items.map((object) => ({
        ref: `deployment/${object.metadata!.name!}`,
        kind: 'deployment' as const,
        name: object.metadata!.name!,
        object,
      })),
      ...statefulsets.items.map((object) => ({
        ref: `statefulset/${object.metadata!.name!}`,
        kind: 'statefulset' as const,
        name: object.metadata!.name!,
        object,
      })),
    ].sort((a, b) => a.ref.localeCompare(b.ref));
    if (!found.length)
      throw new ActionError('not_found', `no Deployment or StatefulSet in namespace ${namespace} matches the selector "${labelSelector}"`, {
        retryable: false,
      });
    return found;
  } catch (error) {
    throw k8sFailure(error, `reading workloads in namespace ${namespace} of ${cluster.server}`, ctx);
  }
}

export const replicasOf = (w: Workload): number => w.object.spec?.replicas ?? 1;

/** Why a rollout is not complete yet, or undefined when it is (the checks `kubectl rollout status` makes). */
export function rolloutPending(w: Workload): string | undefined {
  const { metadata, spec, status } = w.object;
  const want = spec?.replicas ?? 1;
  if ((status?.observedGeneration ?? 0) < (metadata?.generation ?? 0)) return 'the controller has not seen the change yet';
  const updated = status?.updatedReplicas ?? 0;
  const ready = status?.readyReplicas ?? 0;
  const total = status?.replicas ?? 0;
  if (w.kind === 'deployment') {
    const available = (status as V1Deployment['status'])?.availableReplicas ?? 0;
    if (updated < want) return `${updated} of ${want} replicas updated`;
    if (total > want) return `${total - want} old replicas still terminating`;
    if (available < want) return `${available} of ${want} replicas available`;
    return undefined;
  }
  if (ready < want) return `${ready} of ${want} replicas ready`;
  if (total > want) return `${total - want} replicas still terminating`;
  if (want > 0 && updated < want) return `${updated} of ${want} replicas updated`;
  return undefined;
}

function podState(pod: V1Pod): string {
  const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).find(Boolean);
  const unready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True');
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  const why = waiting ?? scheduled?.reason ?? unready?.reason ?? '';
  const message = scheduled?.message ?? unready?.message ?? '';
  return `${pod.metadata?.name} (${pod.status?.phase ?? 'Unknown'}${why ? `: ${why}` : ''}${message ? ` — ${message}` : ''})`;
}

export const podReady = (pod: V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The pods a workload selects that are not Ready, described for an operator. */
export async function unreadyPods(cluster: Cluster, namespace: string, selector: Record<string, string> | undefined): Promise<string[]> {
  if (!selector) return [];
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector });
  return pods.items.filter((p) => !podReady(p)).map(podState);
}

export interface RolloutWait {
  deadline: number;
  timeout: string;
  ctx: ActionContext;
  progress: (pending: Record<string, string>) => void;
  /** A check on top of rolloutPending's replica counts (k8s.rollout: a StatefulSet's revisions). */
  pending?: (w: Workload) => string | undefined;
}

/** Polls until every workload's rollout is complete; on timeout names each unfinished one and its unready pods. */
export async function waitForRollouts(cluster: Cluster, namespace: string, refs: string[], wait: RolloutWait): Promise<void> {
  for (;;) {
    const pending: Record<string, string> = {};
    const current: Workload[] = [];
    for (const ref of refs) {
      const w = await readWorkload(cluster, namespace, ref).catch((error: unknown) => {
        throw k8sFailure(error, `reading ${ref} in ${namespace}`, wait.ctx);
      });
      current.push(w);
      const why = rolloutPending(w) ?? wait.pending?.(w);
      if (why) pending[ref] = why;
    }
    if (!Object.keys(pending).length) return;
    wait.progress(pending);
    if (Date.now() > wait.deadline) {
      const lines: string[] = [];
      for (const w of current.filter((c) => pending[c.ref])) {
        const pods = await unreadyPods(cluster, namespace, w.object.spec?.selector?.matchLabels).catch(() => []);
        lines.push(`${w.ref}: ${pending[w.ref]}${pods.length ? `; unready pods: ${pods.join(', ')}` : ''}`);
      }
      throw new ActionError('timeout', `the rollout did not complete within ${wait.timeout} in namespace ${namespace}: ${lines.join('; ')}`, {
        retryable: false,
      });
    }
    await pause(1000, wait.ctx.signal);
  }
}
