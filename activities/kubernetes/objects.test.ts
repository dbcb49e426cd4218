// What a namespace backup keeps of an object, how a restore maps it to another namespace, and the order it applies resources in.
import { describe, expect, it } from 'vitest';
import { applyRank, cleanObject, isClusterManaged, isControllerOwned, mapNamespace } from './objects.ts';

const served = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'orders',
    uid: 'b1f0',
    resourceVersion: '812',
    generation: 1,
    creationTimestamp: '2026-11-27T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'orders' },
    labels: { app: 'web' },
  },
  spec: { clusterIP: '10.96.0.12', clusterIPs: ['10.96.0.12'], ports: [{ port: 80 }], selector: { app: 'web' } },
  status: { loadBalancer: {} },
};

describe('cleanObject', () => {
  it("drops status, server-set metadata and a Service's cluster IPs; keeps what an operator declared", () => {
    expect(cleanObject(served as never)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'orders', annotations: { team: 'orders' }, labels: { app: 'web' } },
      spec: { ports: [{ port: 80 }], selector: { app: 'web' } },
    });
    expect(served.metadata.uid).toBe('b1f0'); // the original is not touched
  });

  it("drops a PVC's bound volume and a Job's generated selector and labels", () => {
    const pvc = cleanObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } },
      spec: { volumeName: 'pvc-1', resources: {} },
    } as never) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(pvc.spec).toEqual({ resources: {} });
    expect(pvc.metadata).not.toHaveProperty('annotations');
    const job = cleanObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'm', labels: { 'controller-uid': 'u', 'job-name': 'm' } },
      spec: { selector: { matchLabels: { 'controller-uid': 'u' } }, template: { metadata: { labels: { 'controller-uid': 'u', app: 'm' } } } },
    } as never) as { metadata: Record<string, unknown>; spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(job.spec).not.toHaveProperty('selector');
    expect(job.spec.template.metadata.labels).toEqual({ app: 'm' });
    expect(job.metadata).not.toHaveProperty('labels');
  });
});

describe('which objects a backup leaves out', () => {
  it('controller-owned objects and the ones every namespace gets', () => {
    expect(isControllerOwned({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'w', uid: 'u', controller: true }] } })).toBe(
      true,
    );
    expect(isControllerOwned({ metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'w', uid: 'u' }] } })).toBe(false);
    expect(isClusterManaged({ kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' } })).toBe(true);
    expect(isClusterManaged({ kind: 'ServiceAccount', metadata: { name: 'default' } })).toBe(true);
    expect(isClusterManaged({ kind: 'Secret', metadata: { name: 't' }, type: 'kubernetes.io/service-account-token' } as never)).toBe(true);
    expect(isClusterManaged({ kind: 'Secret', metadata: { name: 'db' }, type: 'Opaque' } as never)).toBe(false);
  });
});

describe('mapNamespace', () => {
  it('moves the object, a Namespace itself and RoleBinding subjects of the old namespace; others stay', () => {
    const map = { orders: 'orders-drill' };
    expect(mapNamespace({ kind: 'Namespace', metadata: { name: 'orders' } }, map).metadata).toEqual({ name: 'orders-drill' });
    const binding = mapNamespace(
      {
        kind: 'RoleBinding',
        metadata: { name: 'r', namespace: 'orders' },
        subjects: [
          { kind: 'ServiceAccount', name: 'app', namespace: 'orders' },
          { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
        ],
      } as never,
      map,
    ) as { metadata: { namespace: string }; subjects: { namespace: string }[] };
    expect(binding.metadata.namespace).toBe('orders-drill');
    expect(binding.subjects.map((s) => s.namespace)).toEqual(['orders-drill', 'tools']);
  });
});

describe('applyRank', () => {
  it('CRDs and namespaces first, config before workloads, anything unknown (custom resources) last', () => {
    const order = ['widgets.example.com', 'deployments.apps', 'configmaps', 'namespaces', 'customresourcedefinitions.apiextensions.k8s.io', 'secrets'];
    expect([...order].sort((a, b) => applyRank(a) - applyRank(b))).toEqual([
      'customresourcedefinitions.apiextensions.k8s.io',
      'namespaces',
      'configmaps',
      'secrets',
      'deployments.apps',
      'widgets.example.com',
    ]);
  });
});
