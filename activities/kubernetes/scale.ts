// The k8s.scale action: read replicas, check the guard, patch each scale subresource once, wait for the rollout; in drills, a preflight.
import { Context } from '@temporalio/activity';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { z } from 'zod';
import { k8sScale } from '../../contract/actions/kubernetes.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { connect, k8sFailure, type Cluster } from './cluster.ts';
import { findWorkloads, replicasOf, waitForRollouts, type Workload } from './workloads.ts';

type Input = z.output<typeof k8sScale.input>;
type Output = z.input<typeof k8sScale.output>;
type Counts = Record<string, number>;

/** Kept in heartbeats once patching starts: a retry after a crash still knows what the objects had before. */
interface Scaling {
  namespace: string;
  to: Counts;
  previous: Counts;
}

const wanted = (value: Input['replicas'], ref: string): number | undefined => (typeof value === 'number' ? value : value[ref]);

function desired(input: Input, found: Workload[]): Counts {
  const out: Counts = {};
  for (const w of found) {
    const n = wanted(input.replicas, w.ref);
    if (n === undefined) throw new ActionError('invalid_input', `replicas gives no count for ${w.ref}, which the selector matched`, { retryable: false });
    out[w.ref] = n;
  }
  return out;
}

/** `current`: the counts found (in a drill, as earlier simulated steps would have left them); `whose` says so in a refusal. */
function guard(input: Input, found: Workload[], current: Counts, whose = ''): string[] {
  if (input.expect_current === undefined) return [];
  const wrong = found.filter((w) => wanted(input.expect_current!, w.ref) !== current[w.ref]);
  if (wrong.length)
    throw new ActionError(
      'conflict',
      `expect_current does not hold: ${wrong.map((w) => `${w.ref} has ${current[w.ref]} replicas${whose}, expected ${wanted(input.expect_current!, w.ref) ?? 'no entry'}`).join('; ')}; it changed since the plan was made, so nothing was scaled`,
      { retryable: false },
    );
  return [`expect_current matches: ${found.map((w) => `${w.ref}=${current[w.ref]}`).join(', ')}`];
}

/**
 * In a drill: the counts as the earlier simulated step `ctx.carried` names would have left
 * them (for the objects it scaled; the others as read), and the line saying so.
 */
function drillCounts(found: Workload[], ctx: ActionContext): { current: Counts; lines: string[]; whose: string } {
  const real: Counts = Object.fromEntries(found.map((w) => [w.ref, replicasOf(w)]));
  if (!ctx.carried) return { current: real, lines: [], whose: '' };
  const carried = (ctx.carried.state ?? {}) as Counts;
  const current: Counts = Object.fromEntries(found.map((w) => [w.ref, carried[w.ref] ?? real[w.ref]!]));
  const show = (c: Counts) => found.map((w) => `${w.ref}=${c[w.ref]}`).join(', ');
  const from = `the earlier step "${ctx.carried.from}"`;
  return {
    current,
    lines: [`replicas as ${from} would have left them: ${show(current)} (really there now: ${show(real)})`],
    whose: ` (as ${from} would have left it)`,
  };
}

function earlierAttempt(namespace: string, to: Counts): Counts | undefined {
  try {
    const s = (Context.current().info.heartbeatDetails as { scaling?: Scaling } | undefined)?.scaling;
    if (s && s.namespace === namespace && JSON.stringify(s.to) === JSON.stringify(to)) return s.previous;
  } catch {
    // not inside an activity
  }
  return undefined;
}

async function patchScale(cluster: Cluster, namespace: string, w: Workload, replicas: number): Promise<void> {
  const body = { spec: { replicas } };
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  if (w.kind === 'deployment') await cluster.apps.patchNamespacedDeploymentScale({ name: w.name, namespace, body }, options);
  else await cluster.apps.patchNamespacedStatefulSetScale({ name: w.name, namespace, body }, options);
}

async function rollout(input: Input, cluster: Cluster, refs: string[], scaling: Scaling, ctx: ActionContext): Promise<void> {
  if (!input.wait) return;
  await waitForRollouts(cluster, input.namespace, refs, {
    deadline: Date.now() + parseDuration(input.timeout)!,
    timeout: input.timeout,
    ctx,
    progress: (pending) => ctx.heartbeat({ phase: 'rollout', pending, scaling }),
  });
}

export const k8sScaleImpl = defineImpl({
  spec: k8sScale,
  /**
   * Objects already at their count are not patched, which makes a retry after a crash
   * converge instead of scaling twice; the earlier attempt's heartbeat supplies the
   * `previous` counts it found, so failback still knows where to go back to.
   */
  async run(input, ctx) {
    const cluster = connect(input.cluster, ctx);
    const found = await findWorkloads(cluster, input.namespace, input, ctx);
    const to = desired(input, found);
    const current: Counts = Object.fromEntries(found.map((w) => [w.ref, replicasOf(w)]));
    const todo = found.filter((w) => current[w.ref] !== to[w.ref]);
    const earlier = earlierAttempt(input.namespace, to);
    const previous = earlier ?? current;
    const scaling: Scaling = { namespace: input.namespace, to, previous };
    if (todo.length) {
      if (!earlier) guard(input, found, current);
      ctx.heartbeat({ phase: 'scaling', scaling });
      for (const w of todo) {
        ctx.log('info', `scaling ${w.ref} in ${input.namespace} from ${current[w.ref]} to ${to[w.ref]}`);
        await patchScale(cluster, input.namespace, w, to[w.ref]!).catch((error: unknown) => {
          throw k8sFailure(error, `scaling ${w.ref} in ${input.namespace}`, ctx);
        });
      }
    }
    await rollout(
      input,
      cluster,
      found.map((w) => w.ref),
      scaling,
      ctx,
    );
    const changed = found.some((w) => previous[w.ref] !== to[w.ref]);
    return { namespace: input.namespace, workloads: found.map((w) => w.ref), previous, current: to, changed, simulated: false } satisfies Output;
  },
  async simulate(input, ctx) {
    try {
      const cluster = connect(input.cluster, ctx);
      const found = await findWorkloads(cluster, input.namespace, input, ctx);
      const to = desired(input, found);
      const { current, lines, whose } = drillCounts(found, ctx);
      const preflight = [`${found.map((w) => w.ref).join(', ')} exist in namespace ${input.namespace} of ${cluster.server}`, ...lines];
      const todo = found.filter((w) => current[w.ref] !== to[w.ref]);
      if (todo.length) preflight.push(...guard(input, found, current, whose), ...(await mayScale(cluster, input.namespace, todo, ctx)));
      preflight.push(
        todo.length
          ? `would scale ${todo.map((w) => `${w.ref} from ${current[w.ref]} to ${to[w.ref]}`).join(', ')}`
          : 'every object already has its replicas: a run would change nothing',
      );
      ctx.log('info', preflight.at(-1)!);
      return {
        namespace: input.namespace,
        workloads: found.map((w) => w.ref),
        previous: current,
        current: to,
        changed: todo.length > 0,
        simulated: true,
        preflight,
      };
    } catch (error) {
      const e = k8sFailure(error, 'preflight', ctx);
      throw new ActionError(e.code, `preflight failed: ${e.message}`, { retryable: e.retryable, cause: e });
    }
  },
});

/** Asks the API server (SelfSubjectAccessReview) whether these credentials may patch each object's scale. */
async function mayScale(cluster: Cluster, namespace: string, todo: Workload[], ctx: ActionContext): Promise<string[]> {
  const denied: string[] = [];
  for (const w of todo) {
    const review = await cluster.auth
      .createSelfSubjectAccessReview({
        body: {
          spec: { resourceAttributes: { namespace, verb: 'patch', group: 'apps', resource: `${w.kind}s`, subresource: 'scale', name: w.name } },
        },
      })
      .catch((error: unknown) => {
        throw k8sFailure(error, 'asking whether these credentials may scale', ctx);
      });
    if (!review.status?.allowed) denied.push(`${w.ref}${review.status?.reason ? ` (${review.status.reason})` : ''}`);
  }
  if (denied.length)
    throw new ActionError('auth_failed', `these credentials may not patch the scale of ${denied.join(', ')} in ${namespace}; a run would fail`, {
      retryable: false,
    });
  return [`these credentials may patch the scale of ${todo.map((w) => w.ref).join(', ')}`];
}
