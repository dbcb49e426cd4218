// What the Kubernetes workload actions change, as resource keys: workloads of one namespace on one cluster (the cluster named by its secret reference, never its value).
/** The cluster a `cluster:` block reaches: the kubeconfig's secret reference (or path) and context, or the worker's own. */
function clusterOf(cluster: unknown): string | undefined {
  if (!cluster || typeof cluster !== 'object') return undefined;
  const c = cluster as { kubeconfig?: unknown; context?: unknown; in_cluster?: unknown };
  const context = typeof c.context === 'string' ? ` context ${c.context}` : '';
  if (c.in_cluster === true) return `in-cluster${context}`;
  const ref = c.kubeconfig as { $secret?: unknown } | string | undefined;
  const named = typeof ref === 'string' ? ref : typeof ref?.$secret === 'string' ? `secret ${ref.$secret}` : undefined;
  return named ? `kubeconfig ${named}${context}` : undefined;
}

/** k8s.scale: the namespace's workloads, whose replica counts (by `kind/name`) a step names some of. */
export function scaleResource(input: Record<string, unknown>): string | undefined {
  const cluster = clusterOf(input.cluster);
  return cluster && typeof input.namespace === 'string' ? `k8s ${cluster} namespace ${input.namespace}` : undefined;
}

/** k8s.rollout: one container's image of one workload; a restart changes no state a revert could go back to, so it names none. */
export function rolloutResource(input: Record<string, unknown>): string | undefined {
  const cluster = clusterOf(input.cluster);
  const image = input.image as { container?: unknown } | undefined;
  if (!cluster || typeof input.namespace !== 'string' || typeof input.kind !== 'string' || typeof input.name !== 'string') return undefined;
  if (typeof image?.container !== 'string') return undefined;
  return `k8s ${cluster} namespace ${input.namespace} ${input.kind.toLowerCase()}/${input.name} container ${image.container}`;
}
