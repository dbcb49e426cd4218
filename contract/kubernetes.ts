// How an action reaches a Kubernetes cluster: a kubeconfig from a secret, or the worker pod's service account (the `cluster:` block).
import { z } from 'zod';

/**
 * Which cluster, and as whom: a kubeconfig from a secret (its contents, or the path of a
 * file on the worker), or the worker pod's own service account. Tokens and keys inside a
 * kubeconfig are masked like every secret.
 */
export const ClusterSchema = z
  .strictObject({
    kubeconfig: z.string().optional().describe('from a secret: the kubeconfig itself, or the path of a kubeconfig file on the worker'),
    context: z.string().optional().describe('the kubeconfig context (default: its current-context)'),
    in_cluster: z.boolean().default(false).describe("use the worker pod's service account instead of a kubeconfig"),
  })
  .refine((c) => c.in_cluster !== !!c.kubeconfig, { message: 'give exactly one of kubeconfig (from a secret) or in_cluster: true', path: ['kubeconfig'] });
export type ClusterInput = z.output<typeof ClusterSchema>;

/** Secret fields of a `cluster:` block, for actions that take one. */
export const CLUSTER_SECRETS = ['cluster.kubeconfig'];
