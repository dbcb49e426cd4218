// k8s.restore: a namespace point applied back by server-side apply, in dependency order, optionally into other namespaces.
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import { k8sRestore } from '../../contract/actions/kubernetes-backup.ts';
import { Digest, openRestorePoints, restoredOutput, type PointObject, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, isNotFound, k8sFailure, pause, type Cluster } from './cluster.ts';
import { NAMESPACE_KIND, OBJECT_SUFFIX } from './backup.ts';
import { applyRank, mapNamespace } from './objects.ts';

type Input = z.output<typeof k8sRestore.input>;
const FIELD_MANAGER = 'rebound';

/** `apps/deployments.apps.jsonl.gz` → `deployments.apps`. */
export const resourceOf = (object: PointObject) => object.name.slice(object.name.indexOf('/') + 1, -OBJECT_SUFFIX.length);

/** Reads one stored resource file, checking its sha256 and size against the manifest: a mismatch is not retried. */
export async function readObjects(points: RestorePoints, point: RestorePoint, object: PointObject): Promise<KubernetesObject[]> {
  const digest = new Digest();
  const lines = createInterface({ input: pipeline(await points.open(point, object.name), digest, createGunzip(), () => undefined), crlfDelay: Infinity });
  const out: KubernetesObject[] = [];
  try {
    for await (const line of lines) if (line.trim()) out.push(JSON.parse(line) as KubernetesObject);
  } catch (error) {
    throw new ActionError('verification_failed', `${object.name} of ${point.id} cannot be read: ${(error as Error).message}`, { retryable: false });
  }
  if (digest.sha256 !== object.sha256 || digest.bytes !== object.size)
    throw new ActionError(
      'verification_failed',
      `${object.name}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${object.size}, ${object.sha256}`,
      { retryable: false },
    );
  return out;
}

const describe = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}${o.metadata?.namespace ? ` in ${o.metadata.namespace}` : ''}`;

async function exists(cluster: Cluster, object: KubernetesObject): Promise<boolean> {
  try {
    await cluster.objects.read({
      apiVersion: object.apiVersion!,
      kind: object.kind!,
      metadata: { name: object.metadata!.name!, namespace: object.metadata?.namespace },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** A CRD must be Established before its custom resources can be applied. */
async function established(cluster: Cluster, crd: KubernetesObject, ctx: ActionContext): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const now = (await cluster.objects.read({ apiVersion: crd.apiVersion!, kind: crd.kind!, metadata: { name: crd.metadata!.name! } })) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    if (now.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await pause(500, ctx.signal);
  }
  throw new ActionError('timeout', `${describe(crd)} did not become Established within 30 s`, { retryable: true });
}

interface Tally {
  created: number;
  updated: number;
  skipped: number;
}

async function applyOne(cluster: Cluster, object: KubernetesObject, input: Input, tally: Tally, ctx: ActionContext): Promise<void> {
  const there = await exists(cluster, object);
  if (there && input.existing === 'skip') {
    tally.skipped++;
    return;
  }
  // Force: the backed-up object wins over other field managers, as `existing: update` asks.
  await cluster.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  if (there) tally.updated++;
  else tally.created++;
  if (object.kind === 'CustomResourceDefinition') await established(cluster, object, ctx);
}

async function restoreObjects(
  cluster: Cluster,
  points: RestorePoints,
  point: RestorePoint,
  input: Input,
  ctx: ActionContext,
): Promise<Tally & { namespaces: string[] }> {
  const files = (point.objects ?? [])
    .filter(
      (o) => !input.kinds || input.kinds.includes(resourceOf(o)) || ['namespaces', 'customresourcedefinitions.apiextensions.k8s.io'].includes(resourceOf(o)),
    )
    .sort((a, b) => applyRank(resourceOf(a)) - applyRank(resourceOf(b)) || a.name.localeCompare(b.name));
  const tally: Tally = { created: 0, updated: 0, skipped: 0 };
  const namespaces = new Set<string>();
  for (const file of files) {
    for (const stored of await readObjects(points, point, file)) {
      const object = mapNamespace(stored, input.namespace_map);
      if (object.kind === 'Namespace') namespaces.add(object.metadata!.name!);
      try {
        await applyOne(cluster, object, input, tally, ctx);
      } catch (error) {
        throw k8sFailure(error, `applying ${describe(object)}`, ctx);
      }
      ctx.heartbeat({ resource: resourceOf(file), ...tally });
    }
  }
  return { ...tally, namespaces: [...namespaces] };
}

export const k8sRestoreImpl = defineImpl({
  spec: k8sRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== NAMESPACE_KIND)
      throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not a Kubernetes namespace backup`, { retryable: false });
    const cluster = connect(input.cluster, ctx);
    const done = await restoreObjects(cluster, points, point, input, ctx);
    ctx.log(
      'info',
      `restored ${point.id} into ${done.namespaces.join(', ')}: ${done.created} created, ${done.updated} updated, ${done.skipped} left as they were`,
    );
    return { ...restoredOutput(point), ...done };
  },
});
