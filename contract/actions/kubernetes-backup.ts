// The Kubernetes restore-point actions' contracts: namespace objects and CSI volume snapshots, backed up and restored.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { StorageSchema } from '../storage.ts';
import { CLUSTER_SECRETS, ClusterSchema } from '../kubernetes.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';

const Namespace = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name (RFC 1123 label)');
const Duration = (fallback: string) => z.string().regex(DURATION_PATTERN, 'a duration such as 5m').default(fallback);

/** A namespace's objects as a restore point, cleaned of what the server sets. */
export const k8sBackup = defineAction({
  name: 'k8s.backup',
  summary: "Back up a namespace's objects (chosen kinds, a label selector, custom resources) into a restore point",
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'write',
  secret_inputs: [...CLUSTER_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    cluster: ClusterSchema,
    namespace: Namespace,
    service: ServiceSchema,
    kinds: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'resources to include, as kubectl names them (configmaps, deployments.apps, widgets.example.com); default: every namespaced kind but events, pods and other controller-made objects',
      ),
    selector: z.string().optional().describe('a label selector the objects must match'),
    ...backupPointFields,
  }),
  output: z.object({ ...committedPointOutput, objects: z.number(), kinds: z.array(z.string()) }),
});

/** Server-side apply of a namespace point, in dependency order, into the same namespace or another. */
export const k8sRestore = defineAction({
  name: 'k8s.restore',
  summary: 'Restore a namespace point by server-side apply in dependency order, into the same namespace or another (namespace_map)',
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'write',
  secret_inputs: [...CLUSTER_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['namespace_map', 'cluster'],
  // Applied objects (created, or updated over the live ones) stay: deleting them could delete what was there before.
  restores_over: (input, outputs) =>
    `namespaces ${JSON.stringify(outputs.namespaces ?? input.namespace_map ?? 'of the point')} of cluster ${JSON.stringify(input.cluster)} (existing objects: ${String(input.existing ?? 'skip')})`,
  input: z.strictObject({
    restore_point: RestorePointRefSchema,
    cluster: ClusterSchema,
    namespace_map: z.record(Namespace, Namespace).default({}).describe('restore objects of a namespace into another: {orders: orders-drill}'),
    kinds: z.array(z.string().min(1)).optional().describe('restore only these resources (default: all in the point)'),
    existing: z.enum(['skip', 'update']).default('skip').describe('an object that already exists: leave it (skip) or apply the backed-up one over it (update)'),
    storage: StorageSchema.optional(),
  }),
  output: z.object({
    ...restoredPointOutput,
    namespaces: z.array(z.string()),
    created: z.number(),
    updated: z.number(),
    skipped: z.number(),
  }),
});

/** VolumeSnapshots of PVCs, waited until ready; the point records where the data stays (the storage system). */
export const k8sSnapshot = defineAction({
  name: 'k8s.snapshot',
  summary: 'Take CSI VolumeSnapshots of PVCs (by name or selector), wait until readyToUse, record them as a restore point',
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'write',
  secret_inputs: [...CLUSTER_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z
    .strictObject({
      cluster: ClusterSchema,
      namespace: Namespace,
      service: ServiceSchema,
      pvcs: z.array(z.string().min(1)).min(1).optional(),
      selector: z.string().min(1).optional().describe('or: a label selector over PVCs'),
      snapshot_class: z.string().min(1).describe("the VolumeSnapshotClass (its driver must be the PVCs' CSI driver)"),
      timeout: Duration('30m').describe('how long to wait for readyToUse'),
      ...backupPointFields,
    })
    .superRefine((i, ctx) => {
      if (!!i.pvcs === !!i.selector) ctx.addIssue({ code: 'custom', path: [i.pvcs ? 'pvcs' : 'selector'], message: 'give exactly one of pvcs or selector' });
    }),
  output: z.object({
    ...committedPointOutput,
    snapshots: z.array(z.object({ pvc: z.string(), volume_snapshot: z.string(), content: z.string(), handle: z.string(), restore_size: z.string() })),
  }),
});

/** New PVCs from a snapshot point's VolumeSnapshots (dataSource), in a target namespace. */
export const k8sRestoreVolume = defineAction({
  name: 'k8s.restore_volume',
  summary: "Create PVCs from a snapshot restore point's VolumeSnapshots (dataSource) in a target namespace",
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'write',
  secret_inputs: [...CLUSTER_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['namespace', 'cluster'],
  input: z.strictObject({
    restore_point: RestorePointRefSchema,
    cluster: ClusterSchema,
    namespace: Namespace.describe('where the new PVCs go (the snapshots are copied there first if it is another namespace)'),
    pvcs: z.array(z.string().min(1)).optional().describe("restore only these of the point's PVCs"),
    name_suffix: z
      .string()
      .regex(/^[-a-z0-9]*$/)
      .default('')
      .describe('appended to each PVC name, e.g. -restored'),
    storage_class: z.string().optional().describe("default: the source PVC's class"),
    timeout: Duration('10m').describe('how long to wait for each PVC to be Bound'),
    storage: StorageSchema.optional(),
  }),
  output: z.object({
    ...restoredPointOutput,
    namespace: z.string(),
    pvcs: z.array(z.object({ name: z.string(), from: z.string(), volume: z.string() })),
  }),
});
