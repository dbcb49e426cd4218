// Kubernetes objects as a namespace backup keeps them: cleaned of what the server sets, mapped to another namespace, applied in dependency order.
import type { KubernetesObject } from '@kubernetes/client-node';

/** Set by the API server or controllers: a restored object gets its own. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'ownerReferences',
];
const SERVER_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
];
/** Labels a Job's controller stamps on its own selector and pods. */
const JOB_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: unknown; [key: string]: unknown };

function dropKeys(record: Record<string, unknown> | undefined, keys: string[]): void {
  if (!record) return;
  for (const key of keys) delete record[key];
}

function dropEmpty(meta: Record<string, unknown>, key: 'annotations' | 'labels'): void {
  const value = meta[key] as Record<string, string> | undefined;
  if (value && !Object.keys(value).length) delete meta[key];
}

/**
 * A copy of `object` without status and server-set fields, as Velero-style restores need:
 * Services lose their cluster IPs, PVCs the volume they were bound to, Jobs their generated
 * selector. What is left is what an operator declared.
 */
export function cleanObject(object: KubernetesObject): KubernetesObject {
  const out = structuredClone(object) as Obj;
  delete out.status;
  const meta = (out.metadata ?? {}) as Record<string, unknown>;
  dropKeys(meta, SERVER_METADATA);
  dropKeys(meta.annotations as Record<string, unknown>, SERVER_ANNOTATIONS);
  dropEmpty(meta, 'annotations');
  const spec = out.spec;
  if (out.kind === 'Service' && spec) dropKeys(spec, ['clusterIP', 'clusterIPs', 'healthCheckNodePort']);
  if (out.kind === 'PersistentVolumeClaim' && spec) dropKeys(spec, ['volumeName']);
  if (out.kind === 'Job' && spec) {
    dropKeys(spec, ['selector', 'manualSelector']);
    const template = spec.template as { metadata?: { labels?: Record<string, unknown> } } | undefined;
    dropKeys(template?.metadata?.labels, JOB_LABELS);
    dropKeys(meta.labels as Record<string, unknown>, JOB_LABELS);
    dropEmpty(meta, 'labels');
  }
  return out;
}

/** Objects a controller made (ReplicaSets of a Deployment, Pods, EndpointSlices …): their owner recreates them. */
export function isControllerOwned(object: KubernetesObject): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true);
}

/** Cluster-made objects every namespace gets; backing them up would fight the controllers that own them. */
export function isClusterManaged(object: KubernetesObject): boolean {
  if (object.kind === 'ConfigMap' && object.metadata?.name === 'kube-root-ca.crt') return true;
  if (object.kind === 'ServiceAccount' && object.metadata?.name === 'default') return true;
  return object.kind === 'Secret' && (object as { type?: string }).type === 'kubernetes.io/service-account-token';
}

/** The object in its target namespace; RoleBinding subjects in the old namespace follow it. */
export function mapNamespace(object: KubernetesObject, map: Record<string, string>): KubernetesObject {
  const out = structuredClone(object) as Obj;
  const meta = out.metadata ?? {};
  if (out.kind === 'Namespace' && meta.name) meta.name = map[meta.name] ?? meta.name;
  if (meta.namespace) meta.namespace = map[meta.namespace] ?? meta.namespace;
  const subjects = out.subjects as { namespace?: string }[] | undefined;
  for (const s of subjects ?? []) if (s.namespace) s.namespace = map[s.namespace] ?? s.namespace;
  return out;
}

/** Resources in the order a restore applies them: what others depend on first, workloads after their config, the rest last. */
const ORDER = [
  'customresourcedefinitions.apiextensions.k8s.io',
  'namespaces',
  'serviceaccounts',
  'configmaps',
  'secrets',
  'limitranges',
  'resourcequotas',
  'persistentvolumeclaims',
  'services',
  'roles.rbac.authorization.k8s.io',
  'rolebindings.rbac.authorization.k8s.io',
  'deployments.apps',
  'statefulsets.apps',
  'daemonsets.apps',
  'jobs.batch',
  'cronjobs.batch',
];

export function applyRank(resource: string): number {
  const i = ORDER.indexOf(resource);
  return i === -1 ? ORDER.length : i;
}

/** Resources a default backup leaves out: events, and what controllers or the API server create. */
export const SKIPPED_RESOURCES = new Set([
  'events',
  'events.events.k8s.io',
  'pods',
  'replicasets.apps',
  'controllerrevisions.apps',
  'endpoints',
  'endpointslices.discovery.k8s.io',
  'leases.coordination.k8s.io',
  'bindings',
  'podtemplates',
  'localsubjectaccessreviews.authorization.k8s.io',
  'selfsubjectaccessreviews.authorization.k8s.io',
  'volumesnapshots.snapshot.storage.k8s.io',
  'volumegroupsnapshots.groupsnapshot.storage.k8s.io',
]);
