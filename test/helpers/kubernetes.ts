// Test objects for the real control plane: Deployments kwok can run (or never schedule), namespaces, a token without rights.
import type { KubernetesCluster } from '../../stack/kubernetes/cluster.ts';

/** A Deployment whose pods (labelled like it) kwok marks Ready; `unschedulable` pins them to a node that does not exist. */
export function deployment(
  name: string,
  namespace: string,
  replicas: number,
  options: { labels?: Record<string, string>; unschedulable?: boolean } = {},
): string {
  const labels = { app: name, ...options.labels };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          // Deletions would otherwise wait 30 s for a kubelet that does not exist.
          terminationGracePeriodSeconds: 0,
          ...(options.unschedulable ? { nodeSelector: { 'rebound.test/no-such-node': 'true' } } : {}),
          containers: [{ name: 'app', image: 'registry.invalid/orders:1' }],
        },
      },
    },
  });
}

export function statefulSet(name: string, namespace: string, replicas: number, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, labels: { app: name, ...labels } },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'db', image: 'registry.invalid/db:1' }] },
      },
    },
  });
}

export function namespace(cluster: KubernetesCluster, name: string): void {
  cluster.kubectl(['create', 'namespace', name]);
  // Pods need the namespace's default service account, which the controller manager adds.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      cluster.kubectl(['get', 'serviceaccount', 'default', '-n', name]);
      return;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  throw new Error(`namespace ${name} got no default service account`);
}

export const apply = (cluster: KubernetesCluster, json: string) => cluster.kubectl(['apply', '--server-side', '-f', '-'], json);

export const getJson = <T = Record<string, unknown>>(cluster: KubernetesCluster, args: string[]): T =>
  JSON.parse(cluster.kubectl(['get', ...args, '-o', 'json'])) as T;

/** A ServiceAccount with no role at all, and a token for it from the TokenRequest API. */
export function tokenWithoutRights(cluster: KubernetesCluster, ns: string, name = 'no-rights'): string {
  cluster.kubectl(['create', 'serviceaccount', name, '-n', ns]);
  return cluster.kubectl(['create', 'token', name, '-n', ns, '--duration', '1h']).trim();
}

/** A ServiceAccount that may read Deployments and StatefulSets in `ns` but not change them. */
export function readOnlyToken(cluster: KubernetesCluster, ns: string, name = 'reader'): string {
  cluster.kubectl(['create', 'serviceaccount', name, '-n', ns]);
  cluster.kubectl(['create', 'role', `${name}-role`, '-n', ns, '--verb=get,list,watch', '--resource=deployments,statefulsets,pods']);
  cluster.kubectl(['create', 'rolebinding', `${name}-binding`, '-n', ns, `--role=${name}-role`, `--serviceaccount=${ns}:${name}`]);
  return cluster.kubectl(['create', 'token', name, '-n', ns, '--duration', '1h']).trim();
}

/** Every object of the kinds a backup test compares, with what the server sets removed, keyed by kind/name. */
export function comparable(cluster: KubernetesCluster, ns: string, kinds: string): Record<string, unknown> {
  const list = getJson<{ items: Record<string, unknown>[] }>(cluster, [kinds, '-n', ns]);
  const out: Record<string, unknown> = {};
  for (const item of list.items) {
    const meta = item.metadata as Record<string, unknown>;
    if (meta.name === 'kube-root-ca.crt' || meta.name === 'default') continue;
    const annotations = { ...(meta.annotations as Record<string, string> | undefined) };
    delete annotations['deployment.kubernetes.io/revision'];
    const spec = { ...(item.spec as Record<string, unknown> | undefined) };
    delete spec.clusterIP;
    delete spec.clusterIPs;
    out[`${item.kind as string}/${meta.name as string}`] = {
      labels: meta.labels ?? {},
      annotations,
      ...(item.data ? { data: item.data } : {}),
      ...(item.spec ? { spec } : {}),
    };
  }
  return out;
}
