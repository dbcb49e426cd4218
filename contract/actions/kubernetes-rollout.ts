// The k8s.rollout action's contract: restart a Deployment/StatefulSet or set one container's image, wait for the rollout, revert an image change.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { CLUSTER_SECRETS, ClusterSchema } from '../kubernetes.ts';
import { rolloutResource } from './kubernetes-resource.ts';

const Namespace = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name (RFC 1123 label)');
const ObjectName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'an object name (RFC 1123 subdomain)');
const ContainerName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a container name (RFC 1123 label)');
const ImageRef = z.string().regex(/^\S+$/, 'an image reference without spaces (registry/repo:tag or @sha256:…)');

/** What a rollout changes and reads back: the pod template's images and restart mark, and the object's generation and revision. */
export const TemplateFacts = z.object({
  images: z.record(z.string(), z.string()).describe("the pod template's image per container"),
  restarted_at: z.string().optional().describe("the pod template's kubectl.kubernetes.io/restartedAt, when it has one"),
  generation: z.number().describe("the workload's metadata.generation"),
  revision: z.string().optional().describe("a Deployment's deployment.kubernetes.io/revision, a StatefulSet's status.updateRevision"),
});
export type TemplateFactsOutput = z.output<typeof TemplateFacts>;

/** The image change of an `image:` step, from its `with:` (as written: its fields may still be expressions). */
const imageOf = (input: Record<string, unknown>): { container: string; image: string } | undefined => {
  const image = input.image as { container?: unknown; image?: unknown } | undefined;
  return typeof image?.container === 'string' && typeof image.image === 'string' ? { container: image.container, image: image.image } : undefined;
};

/**
 * Replaces a workload's pods: a restart (what `kubectl rollout restart` does) or a new image for
 * one container (`kubectl set image`), then waits like `kubectl rollout status`. Production
 * impact: a drill runs a preflight instead (the workload and container exist, what would change).
 */
export const k8sRollout = defineAction({
  name: 'k8s.rollout',
  summary: "Restart a Deployment/StatefulSet or set a container's image, and wait for the rollout; production impact: a preflight in drills",
  kind: 'activity',
  backend: 'kubernetes',
  impact: 'production',
  simulates: true,
  resource: rolloutResource,
  secret_inputs: CLUSTER_SECRETS,
  input: z
    .strictObject({
      cluster: ClusterSchema,
      namespace: Namespace,
      kind: z.enum(['Deployment', 'StatefulSet']).describe('the kind of workload'),
      name: ObjectName.describe('the Deployment or StatefulSet'),
      restart: z.literal(true).optional().describe('replace every pod with the same template, as `kubectl rollout restart` does'),
      image: z
        .strictObject({ container: ContainerName.describe('a container of the pod template'), image: ImageRef.describe('the image it is to run') })
        .optional()
        .describe('or: set this container of the pod template to this image (one container per step)'),
      expect_current: z
        .record(ContainerName, ImageRef)
        .optional()
        .describe('refuse, changing nothing, unless each named container runs exactly this image now ({"app": "registry/app:1.4"})'),
      wait: z.boolean().default(true).describe('wait until the rollout is complete (every replica updated and available, as `kubectl rollout status`)'),
      timeout: z.string().regex(DURATION_PATTERN, 'a duration such as 5m').default('10m').describe('how long to wait for the rollout'),
    })
    .superRefine((input, ctx) => {
      // The path names a field that may be templated, so the compiler leaves the check to run time.
      if ((input.restart === true) === !!input.image)
        ctx.addIssue({ code: 'custom', path: [input.image ? 'image' : 'restart'], message: 'give exactly one of restart: true or image: {container, image}' });
    }),
  output: z.object({
    namespace: z.string(),
    workload: z.string().describe('deployment/<name> or statefulset/<name>, as kubectl writes it'),
    previous: TemplateFacts.describe('the template before the step: what failback of an image change goes back to'),
    current: TemplateFacts.describe('the template after the step (and after its rollout, when waited for)'),
    changed: z.boolean().describe('false when the image was already set; true when this step (or an earlier attempt of it) changed the template'),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional(),
  }),
  /**
   * An image change goes back to the container's previous image, guarded by the image the run
   * set. A restart has no previous state to return to (the pods already run the same
   * template again; restarting once more would not undo anything): no revert.
   */
  nothing_to_revert: (input) =>
    input.restart === true ? 'a restart replaced the pods with the same template; restarting again would undo nothing' : undefined,
  revert(input, outputs) {
    const change = imageOf(input);
    const previous = (outputs.previous as TemplateFactsOutput | undefined)?.images;
    const current = (outputs.current as TemplateFactsOutput | undefined)?.images;
    if (outputs.changed !== true || outputs.simulated === true || !change || !previous || !current) return undefined;
    const before = previous[change.container];
    const set = current[change.container];
    if (!before || !set || before === set) return undefined;
    const { expect_current: _e, restart: _r, ...rest } = input;
    return { ...rest, image: { container: change.container, image: before }, expect_current: { [change.container]: set } };
  },
});
