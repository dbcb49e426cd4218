// k8s.backup: a namespace's objects, cleaned, one gzipped JSON-lines object per resource, the manifest last.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { k8sBackup } from '../../contract/actions/kubernetes-backup.ts';
import { committedOutput, listingSha256, openStepPoint, type PointDraft, type PointObject, type RestorePoint, stepOrigin } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, k8sFailure, type Cluster } from './cluster.ts';
import { discover, listAll, selectResources, type Resource } from './discovery.ts';
import { cleanObject, isClusterManaged, isControllerOwned } from './objects.ts';

import { K8S_NAMESPACE_KIND as NAMESPACE_KIND } from './kind.ts';

export { NAMESPACE_KIND };
export const OBJECT_SUFFIX = '.jsonl.gz';
const CLIENT_VERSION = (createRequire(import.meta.url)('@kubernetes/client-node/package.json') as { version: string }).version;

/** `apps/deployments.apps.jsonl.gz`: the resource's group folder (`core` for the legacy group), then its id. */
export const objectName = (r: { group: string; id: string }) => `${r.group || 'core'}/${r.id}${OBJECT_SUFFIX}`;

async function putObjects(draft: PointDraft, name: string, objects: KubernetesObject[], signal: AbortSignal): Promise<PointObject> {
  const data = gzipSync(objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
  await draft.put(name, Readable.from([data]), signal);
  return { name, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), documents: objects.length };
}

/** The CRDs behind the custom resources backed up, so a rebuilt cluster can take them back. */
async function definitionsFor(cluster: Cluster, all: Resource[], used: Resource[]): Promise<{ resource: Resource; objects: KubernetesObject[] } | undefined> {
  const crdResource = all.find((r) => r.id === 'customresourcedefinitions.apiextensions.k8s.io');
  if (!crdResource) return undefined;
  const wanted = new Set(used.map((r) => r.id));
  const crds = (await listAll(cluster, crdResource, undefined)).filter((crd) => {
    const spec = (crd as { spec?: { group?: string; names?: { plural?: string } } }).spec;
    return wanted.has(`${spec?.names?.plural}.${spec?.group}`);
  });
  return crds.length ? { resource: crdResource, objects: crds.map(cleanObject) } : undefined;
}

async function collect(cluster: Cluster, input: { namespace: string; kinds?: string[] | undefined; selector?: string | undefined }, ctx: ActionContext) {
  const all = await discover(cluster);
  const selected = selectResources(all, input.kinds);
  const groups: { resource: Resource; objects: KubernetesObject[] }[] = [];
  let count = 0;
  for (const resource of selected) {
    const items = (await listAll(cluster, resource, input.namespace, input.selector)).filter((o) => !isControllerOwned(o) && !isClusterManaged(o));
    count += items.length;
    ctx.heartbeat({ phase: 'reading', resource: resource.id, objects: count });
    if (items.length) groups.push({ resource, objects: items.map(cleanObject) });
  }
  const ns = await cluster.core.readNamespace({ name: input.namespace });
  groups.unshift({ resource: all.find((r) => r.id === 'namespaces')!, objects: [cleanObject({ ...ns, apiVersion: 'v1', kind: 'Namespace' })] });
  const crds = await definitionsFor(
    cluster,
    all,
    groups.map((g) => g.resource),
  );
  if (crds) groups.unshift(crds);
  return { groups, count };
}

export const k8sBackupImpl = defineImpl({
  spec: k8sBackup,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, NAMESPACE_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const cluster = connect(input.cluster, ctx);
    const started = new Date().toISOString();
    const { groups } = await collect(cluster, input, ctx).catch((error: unknown) => {
      throw k8sFailure(error, `reading namespace ${input.namespace} of ${cluster.server}`, ctx);
    });
    await draft.discard();
    const stored: PointObject[] = [];
    try {
      for (const g of groups) stored.push(await putObjects(draft, objectName(g.resource), g.objects, ctx.signal));
    } catch (error) {
      await draft.discard().catch(() => undefined);
      throw error instanceof ActionError ? error : new ActionError('backend_error', `writing the backup: ${ctx.mask(String(error))}`, { retryable: true });
    }
    const version = await cluster.kc
      .makeApiClient(VersionApi)
      .getCode()
      .then((v) => v.gitVersion)
      .catch(() => 'unknown');
    const point = await draft.commit({
      object: '',
      size: stored.reduce((sum, o) => sum + o.size, 0),
      sha256: listingSha256(stored),
      objects: stored,
      started_at: started,
      completed_at: new Date().toISOString(),
      ...stepOrigin(input, ctx),
      source: {
        server: cluster.server,
        namespace: input.namespace,
        ...(input.selector ? { selector: input.selector } : {}),
        kinds: groups.map((g) => g.resource.id),
      },
      tool: { name: 'rebound (@kubernetes/client-node, server-side apply on restore)', version: CLIENT_VERSION },
      server_version: version,
      labels: input.labels,
    });
    ctx.log('info', `restore point ${id} of ${input.service}: namespace ${input.namespace}, ${stored.reduce((s, o) => s + (o.documents ?? 0), 0)} objects`);
    return outputOf(point, points.keyOf(point));
  },
});

function outputOf(point: RestorePoint, object: string) {
  const objects = point.objects ?? [];
  return {
    ...committedOutput(point, object),
    objects: objects.reduce((sum, o) => sum + (o.documents ?? 0), 0),
    kinds: objects.map((o) => o.name.slice(o.name.indexOf('/') + 1, -OBJECT_SUFFIX.length)),
  };
}
