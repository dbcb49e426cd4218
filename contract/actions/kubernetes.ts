// The Kubernetes workload actions' contracts: scale a DR site's Deployments/StatefulSets (revertible), wait for conditions.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { CLUSTER_SECRETS, ClusterSchema } from '../kubernetes.ts';
import { defineIntegrationSpec } from '../integration.ts';
import { k8sBackup, k8sRestore, k8sRestoreVolume, k8sSnapshot } from './kubernetes-backup.ts';
import { scaleResource } from './kubernetes-resource.ts';
import { k8sRollout } from './kubernetes-rollout.ts';

const Namespace = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name (RFC 1123 label)');
const Duration = (fallback: string) => z.string().regex(DURATION_PATTERN, 'a duration such as 5m').default(fallback);

/** `deployment/web` or `statefulset/db`, as kubectl writes them. */
export const WorkloadRef = z
  .string()
  .regex(/^(deployment|statefulset)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'deployment/<name> or statefulset/<name>')
  .describe('deployment/<name> or statefulset/<name>');

const Replicas = z.union([z.number().int().min(0), z.record(WorkloadRef, z.number().int().min(0))]);

/**
 * Scales a DR site's workloads — pilot light to warm standby and back. Production impact:
 * a drill runs a preflight instead (objects exist, the credentials may patch their scale).
 */
export const k8sScale = defineAction({
  name: 'k8s.scale',
  summary: 'Scale Deployments/StatefulSets (by name or label selector) and wait for the rollout; production impact: a preflight in drills',
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'production',
  simulates: true,
  resource: scaleResource,
  state_by_entry: () => true,
  secret_inputs: CLUSTER_SECRETS,
  input: z
    .strictObject({
      cluster: ClusterSchema,
      namespace: Namespace,
      workloads: z.array(WorkloadRef).min(1).optional().describe('the objects to scale'),
      selector: z.string().min(1).optional().describe('or: a label selector (app=orders,tier!=cache) over Deployments and StatefulSets'),
      replicas: Replicas.describe('the replica count, or one per object ({"deployment/web": 3})'),
      expect_current: Replicas.optional().describe('refuse unless every object has exactly these replicas now'),
      wait: z.boolean().default(true).describe('wait until the rollout is complete (updated, ready and available replicas)'),
      timeout: Duration('10m').describe('how long to wait for the rollout'),
    })
    .superRefine((input, ctx) => {
      // The path names a field that may be templated, so the compiler leaves the check to run time.
      if (!!input.workloads === !!input.selector)
        ctx.addIssue({ code: 'custom', path: [input.workloads ? 'workloads' : 'selector'], message: 'give exactly one of workloads or selector' });
      for (const field of ['replicas', 'expect_current'] as const) {
        const value = input[field];
        if (value && typeof value === 'object' && input.workloads) {
          const extra = Object.keys(value).filter((k) => !input.workloads!.includes(k));
          if (extra.length) ctx.addIssue({ code: 'custom', path: [field], message: `names objects not in workloads: ${extra.join(', ')}` });
        }
      }
    }),
  output: z.object({
    namespace: z.string(),
    workloads: z.array(z.string()),
    /** Replicas per object before the step: what failback scales back to. */
    previous: z.record(z.string(), z.number()),
    current: z.record(z.string(), z.number()),
    changed: z.boolean(),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional(),
  }),
  /** Failback scales each object back to what the run found, guarded by what the run set. */
  revert(input, outputs) {
    const previous = outputs.previous as Record<string, number> | undefined;
    const current = outputs.current as Record<string, number> | undefined;
    if (outputs.changed !== true || outputs.simulated === true || !previous || !current) return undefined;
    const { expect_current: _e, selector: _s, ...rest } = input;
    return { ...rest, workloads: Object.keys(previous), replicas: previous, expect_current: current };
  },
});

/** Waits for workloads, pods or jobs; on timeout names what is not there yet. */
export const k8sWait = defineAction({
  name: 'k8s.wait',
  summary: 'Wait for Deployments to be Available, Pods (by selector) to be Ready, or Jobs to Complete',
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'read',
  secret_inputs: CLUSTER_SECRETS,
  input: z
    .strictObject({
      cluster: ClusterSchema,
      namespace: Namespace,
      deployments: z.array(z.string().min(1)).optional().describe('Deployments that must be Available'),
      pods: z.string().min(1).optional().describe('a label selector: every matching pod Ready (and at least min_pods of them)'),
      min_pods: z.number().int().min(0).default(1),
      jobs: z.array(z.string().min(1)).optional().describe('Jobs that must Complete (a Failed job fails the step)'),
      timeout: Duration('5m'),
    })
    .refine((i) => i.deployments || i.pods || i.jobs, { message: 'give deployments, pods or jobs to wait for', path: ['pods'] }),
  output: z.object({
    namespace: z.string(),
    ready: z.array(z.string()),
    waited_ms: z.number(),
  }),
});

/**
 * The Kubernetes integration: workload actions here and in kubernetes-rollout.ts, restore-point
 * actions in kubernetes-backup.ts, and its two kinds of point — namespace objects (decoded and checked
 * without a cluster: no fields) and CSI VolumeSnapshots (kept in the cluster, which verify
 * restores from and prune deletes in).
 */
export const spec = defineIntegrationSpec({
  name: 'kubernetes',
  actions: [k8sScale, k8sRollout, k8sWait, k8sBackup, k8sRestore, k8sSnapshot, k8sRestoreVolume],
  kinds: {
    'k8s-namespace': {},
    'k8s-volume': {
      verify: {
        cluster: ClusterSchema.optional().describe(
          'k8s-volume points: the Kubernetes cluster their VolumeSnapshots are in; each is checked and restored into a scratch PVC in its namespace, deleted after',
        ),
      },
      verify_secrets: CLUSTER_SECRETS,
      prune: {
        cluster: ClusterSchema.optional().describe('k8s-volume points: the Kubernetes cluster their VolumeSnapshots are in (required to prune such points)'),
      },
      prune_secrets: CLUSTER_SECRETS,
    },
  },
});
