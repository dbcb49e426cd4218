// The Kubernetes namespace half of backup.verify: every stored object decoded and checked against the file and manifest that hold it, without a cluster.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PointObject, RestorePoint } from '../restore-points/index.ts';
import type { CheckResult, TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { readObjects, resourceOf } from './restore.ts';

/** The only cluster-scoped resources a namespace backup keeps (the namespace itself, and the CRDs of its custom resources). */
const CLUSTER_SCOPED = new Set(['namespaces', 'customresourcedefinitions.apiextensions.k8s.io']);
const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';
const MAX_PROBLEMS = 10;

interface Crd {
  spec?: { group?: string; names?: { plural?: string; kind?: string } };
}

/** Kinds the resource id may hold: a custom resource's from its CRD in the point, a built-in's by English plural rules (Ingress → ingresses, NetworkPolicy → networkpolicies, Endpoints). */
function kindMatches(id: string, kind: string, crdKinds: Map<string, string>): boolean {
  const custom = crdKinds.get(id);
  if (custom) return custom === kind;
  const plural = id.split('.')[0]!;
  const k = kind.toLowerCase();
  return [k, `${k}s`, `${k}es`, k.replace(/y$/, 'ies')].includes(plural);
}

/** What is wrong with one object of the file `file` (its folder is its API group, `core` for the legacy one). */
function problemOf(object: KubernetesObject, file: PointObject, namespace: string, crdKinds: Map<string, string>): string | undefined {
  const id = resourceOf(file);
  const name = object.metadata?.name;
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof name !== 'string' || !name)
    return `an object without apiVersion, kind or metadata.name`;
  const folder = file.name.slice(0, file.name.indexOf('/'));
  const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.indexOf('/')) : 'core';
  if (group !== folder) return `${object.kind}/${name} has apiVersion ${object.apiVersion}, not of API group ${folder}`;
  if (!kindMatches(id, object.kind, crdKinds)) return `${object.kind}/${name} is not a ${id} object`;
  if (CLUSTER_SCOPED.has(id)) {
    if (object.metadata?.namespace) return `${object.kind}/${name} is cluster-scoped but names namespace ${object.metadata.namespace}`;
    if (id === 'namespaces' && name !== namespace) return `the namespace object is ${name}, not ${namespace}`;
  } else if (object.metadata?.namespace !== namespace)
    return `${object.kind}/${name} is in namespace ${object.metadata?.namespace ?? '(none)'}, not ${namespace}`;
  return undefined;
}

async function decodeAll(points: Parameters<TestRestore>[0], point: RestorePoint, ctx: Parameters<TestRestore>[3]) {
  const files = point.objects ?? [];
  const decoded = new Map<PointObject, KubernetesObject[]>();
  const problems: string[] = [];
  for (const file of files) {
    try {
      decoded.set(file, await readObjects(points, point, file));
    } catch (error) {
      if (!(error instanceof ActionError) || error.retryable) throw error;
      problems.push(error.message);
    }
    ctx.heartbeat({ phase: 'decode', object: file.name });
  }
  return { decoded, problems };
}

/**
 * Each file's lines must be objects of the resource its name gives, in the backed-up namespace,
 * as many as the manifest's `documents`. `checks.tables` names resources (`deployments.apps`)
 * that must hold objects; `checks.min_rows.<resource>` at least that many.
 */
export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const namespace = String(point.source.namespace ?? '');
  const { decoded, problems } = await decodeAll(points, point, ctx);
  const crdFile = [...decoded.keys()].find((f) => resourceOf(f) === CRDS);
  const crdKinds = new Map(
    (crdFile ? decoded.get(crdFile)! : []).map((crd) => {
      const spec = (crd as Crd).spec;
      return [`${spec?.names?.plural}.${spec?.group}`, spec?.names?.kind ?? ''];
    }),
  );
  const counts = new Map<string, number>();
  for (const [file, objects] of decoded) {
    counts.set(resourceOf(file), objects.length);
    if (objects.length !== file.documents) problems.push(`${file.name} holds ${objects.length} objects; the manifest says ${file.documents}`);
    for (const object of objects) {
      const problem = problemOf(object, file, namespace, crdKinds);
      if (problem) problems.push(`${file.name}: ${problem}`);
    }
  }
  for (const id of input.checks.tables) if (!counts.get(id)) problems.push(`no ${id} objects (checks.tables names it)`);
  for (const [id, min] of Object.entries(input.checks.min_rows))
    if ((counts.get(id) ?? 0) < min) problems.push(`${counts.get(id) ?? 0} ${id} objects; checks.min_rows asks for at least ${min}`);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const result: CheckResult = problems.length
    ? {
        check: 'objects',
        ok: false,
        detail: problems.slice(0, MAX_PROBLEMS).join('; ') + (problems.length > MAX_PROBLEMS ? ` (and ${problems.length - MAX_PROBLEMS} more)` : ''),
      }
    : {
        check: 'objects',
        ok: true,
        detail: `${total} objects in ${counts.size} resource files decode as the resources and namespace ${namespace} they are filed under`,
      };
  return [result];
};
