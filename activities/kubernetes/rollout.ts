// The k8s.rollout action: read the pod template, check it and the guard, patch a restart or an image once (recorded for retries), wait for the rollout; in drills, a preflight.
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1StatefulSet } from '@kubernetes/client-node';
import { k8sRollout } from '../../contract/actions/kubernetes-rollout.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, k8sFailure, type Cluster } from './cluster.ts';
import {
  checkWorkload,
  factsOf,
  guard,
  ownRecord,
  patchBody,
  RESTARTED_AT,
  restartStamp,
  revisionPending,
  target,
  workloadRef,
  type Facts,
  type Input,
  type RolloutRecord,
} from './rollout-template.ts';
import { readWorkload, replicasOf, waitForRollouts, type Workload } from './workloads.ts';

async function read(cluster: Cluster, input: Input, ctx: ActionContext): Promise<Workload> {
  const ref = workloadRef(input);
  return readWorkload(cluster, input.namespace, ref).catch((error: unknown) => {
    throw k8sFailure(error, `reading ${ref} in namespace ${input.namespace} of ${cluster.server}`, ctx);
  });
}

/** Whether the template differs from what the step asks for: a restart always does (unless this step's record says it restarted already). */
const differs = (input: Input, facts: Facts): boolean => input.restart === true || facts.images[input.image!.container] !== input.image!.image;

function change(input: Input, w: Workload, facts: Facts): string {
  if (input.restart) return `restart ${w.ref} in ${input.namespace} (a new ${RESTARTED_AT} on its pod template), replacing its ${replicasOf(w)} pods`;
  const { container, image } = input.image!;
  return `set container ${container} of ${w.ref} in ${input.namespace} from ${facts.images[container]} to ${image}, replacing its ${replicasOf(w)} pods`;
}

async function patch(cluster: Cluster, input: Input, w: Workload, body: object, ctx: ActionContext): Promise<Workload> {
  const options = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  const params = { name: w.name, namespace: input.namespace, body };
  try {
    const object: V1Deployment | V1StatefulSet =
      w.kind === 'deployment' ? await cluster.apps.patchNamespacedDeployment(params, options) : await cluster.apps.patchNamespacedStatefulSet(params, options);
    return { ...w, object };
  } catch (error) {
    throw k8sFailure(error, `patching ${w.ref} in ${input.namespace}`, ctx);
  }
}

/** Reads, checks and (unless this step already did) patches; returns what the run found and the workload as the patch left it. */
async function apply(cluster: Cluster, input: Input, ctx: ActionContext): Promise<{ previous: Facts; after: Workload; changed: boolean }> {
  const w = await read(cluster, input, ctx);
  const now = factsOf(w);
  const earlier = ownRecord(w, ctx.runId, ctx.step);
  const previous = earlier?.previous ?? now;
  // An earlier attempt's restart counts as done; its image change is redone only if someone changed the image since.
  const todo = earlier ? !!input.image && differs(input, now) : differs(input, now);
  try {
    checkWorkload(input, w, now);
    if (todo && !earlier) guard(input, w, now);
  } catch (error) {
    // Without this step's record on the object, no attempt of it changed anything.
    throw earlier ? error : withPartial(error, { changed: false });
  }
  if (!todo) return { previous, after: w, changed: !!earlier };
  const record: RolloutRecord = { run: ctx.runId, step: ctx.step, previous };
  const stamp = input.restart ? restartStamp(new Date(), now.restarted_at) : undefined;
  ctx.heartbeat({ phase: 'patching', workload: w.ref, previous });
  ctx.log('info', `${earlier ? 'again: ' : ''}${change(input, w, now)}`);
  // A failed patch carries no partial: a lost answer may hide a change the server made (the retry's read tells).
  return { previous, after: await patch(cluster, input, w, patchBody(input, w, record, stamp), ctx), changed: true };
}

async function rollout(cluster: Cluster, input: Input, ref: string, ctx: ActionContext): Promise<void> {
  await waitForRollouts(cluster, input.namespace, [ref], {
    deadline: Date.now() + parseDuration(input.timeout)!,
    timeout: input.timeout,
    ctx,
    pending: revisionPending,
    progress: (pending) => ctx.heartbeat({ phase: 'rollout', workload: ref, pending }),
  });
}

export const k8sRolloutImpl = defineImpl({
  spec: k8sRollout,
  /**
   * The patch carries a record (run id, step id, the template found) on the workload's
   * metadata, so a retry of this step recognises its own change: it neither restarts a
   * second time nor forgets what the template was before. An image already set is not
   * patched (changed: false), and the rollout is still waited for.
   */
  async run(input, ctx) {
    const cluster = connect(input.cluster, ctx);
    const ref = workloadRef(input);
    const { previous, after, changed } = await apply(cluster, input, ctx);
    if (input.wait)
      await rollout(cluster, input, ref, ctx).catch((error: unknown) => {
        throw withPartial(error, changed ? { previous, target: factsOf(after) } : { changed: false });
      });
    const current = input.wait ? factsOf(await read(cluster, input, ctx)) : factsOf(after);
    return { namespace: input.namespace, workload: ref, previous, current, changed, simulated: false };
  },
  async simulate(input, ctx) {
    try {
      const cluster = connect(input.cluster, ctx);
      const w = await read(cluster, input, ctx);
      const now = factsOf(w);
      checkWorkload(input, w, now);
      const todo = differs(input, now);
      const preflight = [`${w.ref} exists in namespace ${input.namespace} of ${cluster.server}; its containers: ${images(now)}`];
      if (todo) preflight.push(...guard(input, w, now), await mayPatch(cluster, input, w, ctx));
      preflight.push(
        todo
          ? `would ${change(input, w, now)}`
          : `container ${input.image!.container} already runs ${input.image!.image}: a run would change nothing${input.wait ? ' and wait for the rollout' : ''}`,
      );
      ctx.log('info', preflight.at(-1)!);
      return {
        namespace: input.namespace,
        workload: w.ref,
        previous: now,
        current: target(input, now, input.restart ? wouldStamp() : undefined),
        changed: todo,
        simulated: true,
        preflight,
      };
    } catch (error) {
      const e = k8sFailure(error, 'preflight', ctx);
      throw new ActionError(e.code, `preflight failed: ${e.message}`, { retryable: e.retryable, cause: e });
    }
  },
});

/** The restartedAt a run would write now (kubectl's RFC 3339 in seconds), so a drill's after differs from its before. */
const wouldStamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

const images = (facts: Facts): string =>
  Object.entries(facts.images)
    .map(([c, image]) => `${c}=${image}`)
    .join(', ');

/** Asks the API server (SelfSubjectAccessReview) whether these credentials may patch the workload. */
async function mayPatch(cluster: Cluster, input: Input, w: Workload, ctx: ActionContext): Promise<string> {
  const review = await cluster.auth
    .createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace: input.namespace, verb: 'patch', group: 'apps', resource: `${w.kind}s`, name: w.name } } },
    })
    .catch((error: unknown) => {
      throw k8sFailure(error, 'asking whether these credentials may patch the workload', ctx);
    });
  if (!review.status?.allowed)
    throw new ActionError(
      'auth_failed',
      `these credentials may not patch ${w.ref} in ${input.namespace}${review.status?.reason ? ` (${review.status.reason})` : ''}; a run would fail`,
      { retryable: false },
    );
  return `these credentials may patch ${w.ref}`;
}
