// Which namespaced resources a cluster serves (API discovery), and the ones a namespace backup reads.
import { ApisApi, type KubernetesObject } from '@kubernetes/client-node';
import { ActionError } from '../runtime/errors.ts';
import type { Cluster } from './cluster.ts';
import { SKIPPED_RESOURCES } from './objects.ts';

export interface Resource {
  /** `configmaps`, `deployments.apps`: how kubectl and the backup's object names spell it. */
  id: string;
  group: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** The preferred version of every group's resources that can be listed, read and created (not subresources). */
export async function discover(cluster: Cluster): Promise<Resource[]> {
  const out: Resource[] = [];
  const add = (group: string, apiVersion: string, list: { name: string; kind: string; namespaced: boolean; verbs: string[] }[]) => {
    for (const r of list) {
      if (r.name.includes('/') || !['list', 'get', 'create'].every((v) => r.verbs.includes(v))) continue;
      out.push({ id: group ? `${r.name}.${group}` : r.name, group, apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
    }
  };
  add('', 'v1', (await cluster.core.getAPIResources()).resources);
  const groups = await cluster.kc.makeApiClient(ApisApi).getAPIVersions();
  for (const group of groups.groups) {
    const preferred = group.preferredVersion ?? group.versions[0];
    if (!preferred) continue;
    const list = await cluster.custom.getAPIResources({ group: group.name, version: preferred.version });
    add(group.name, preferred.groupVersion, list.resources);
  }
  return out;
}

/** The resources a backup reads: the ones named (by plural, plural.group or Kind), or every namespaced one not skipped. */
export function selectResources(all: Resource[], kinds: string[] | undefined): Resource[] {
  const namespaced = all.filter((r) => r.namespaced);
  if (!kinds) return namespaced.filter((r) => !SKIPPED_RESOURCES.has(r.id));
  return kinds.map((name) => {
    const lower = name.toLowerCase();
    const found = namespaced.filter((r) => r.id === lower || r.plural === lower || r.kind.toLowerCase() === lower);
    if (found.length === 1) return found[0]!;
    if (!found.length)
      throw new ActionError('not_found', `kinds: the cluster serves no namespaced resource "${name}" (write plural.group, e.g. deployments.apps)`, {
        retryable: false,
      });
    throw new ActionError('invalid_input', `kinds: "${name}" could be ${found.map((r) => r.id).join(' or ')}; write one of those`, { retryable: false });
  });
}

/** Every object of a resource in a namespace (or cluster-wide), page by page. */
export async function listAll(cluster: Cluster, resource: Resource, namespace: string | undefined, labelSelector?: string): Promise<KubernetesObject[]> {
  const items: KubernetesObject[] = [];
  let token: string | undefined;
  do {
    const page = await cluster.objects.list(
      resource.apiVersion,
      resource.kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
      500,
      token,
    );
    // Lists omit each item's apiVersion and kind; a backup must keep them to be applied again.
    for (const item of page.items) items.push({ ...item, apiVersion: resource.apiVersion, kind: resource.kind });
    token = page.metadata?._continue || undefined;
  } while (token);
  return items;
}
