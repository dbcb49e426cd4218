// The k8s.wait action: poll until Deployments are Available, selected Pods Ready and Jobs Complete; on timeout, name what is missing.
import type { V1Deployment, V1Job } from '@kubernetes/client-node';
import type { z } from 'zod';
import { k8sWait } from '../../contract/actions/kubernetes.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { connect, isNotFound, k8sFailure, pause, type Cluster } from './cluster.ts';
import { podReady, unreadyPods } from './workloads.ts';

type Input = z.output<typeof k8sWait.input>;

/** One poll: what is ready, and for everything else why not. A failed Job throws: waiting cannot help. */
interface Poll {
  ready: string[];
  waiting: string[];
}

const condition = (object: V1Deployment | V1Job, type: string) => object.status?.conditions?.find((c) => c.type === type);

async function deployments(cluster: Cluster, input: Input, poll: Poll): Promise<void> {
  for (const name of input.deployments ?? []) {
    const d = await cluster.apps.readNamespacedDeployment({ name, namespace: input.namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    const available = d && condition(d, 'Available');
    if (d && available?.status === 'True' && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)) poll.ready.push(`deployment/${name}`);
    else if (!d) poll.waiting.push(`deployment/${name}: does not exist`);
    else {
      const pods = await unreadyPods(cluster, input.namespace, d.spec?.selector?.matchLabels);
      poll.waiting.push(
        `deployment/${name}: not Available (${available?.reason ?? 'no condition yet'})${pods.length ? `; unready pods: ${pods.join(', ')}` : ''}`,
      );
    }
  }
}

async function pods(cluster: Cluster, input: Input, poll: Poll): Promise<void> {
  if (!input.pods) return;
  const list = await cluster.core.listNamespacedPod({ namespace: input.namespace, labelSelector: input.pods });
  const unready = list.items.filter((p) => !podReady(p));
  if (list.items.length >= input.min_pods && !unready.length) poll.ready.push(`pods ${input.pods} (${list.items.length})`);
  else if (list.items.length < input.min_pods) poll.waiting.push(`pods ${input.pods}: ${list.items.length} exist, at least ${input.min_pods} wanted`);
  else poll.waiting.push(`pods ${input.pods}: not Ready: ${(await unreadyPods(cluster, input.namespace, labels(input.pods))).join(', ')}`);
}

/** An equality-only selector as a map (for unreadyPods); anything fancier lists every pod. */
function labels(selector: string): Record<string, string> | undefined {
  const pairs = selector.split(',').map((p) => p.split('='));
  return pairs.every((p) => p.length === 2) ? Object.fromEntries(pairs) : undefined;
}

async function jobs(cluster: Cluster, input: Input, poll: Poll): Promise<void> {
  for (const name of input.jobs ?? []) {
    const job = await cluster.batch.readNamespacedJob({ name, namespace: input.namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (!job) poll.waiting.push(`job/${name}: does not exist`);
    else if (condition(job, 'Complete')?.status === 'True') poll.ready.push(`job/${name}`);
    else if (condition(job, 'Failed')?.status === 'True')
      throw new ActionError(
        'check_failed',
        `job/${name} in ${input.namespace} failed: ${condition(job, 'Failed')?.message ?? condition(job, 'Failed')?.reason}`,
        {
          retryable: false,
        },
      );
    else poll.waiting.push(`job/${name}: ${job.status?.active ?? 0} active, ${job.status?.succeeded ?? 0} succeeded`);
  }
}

export const k8sWaitImpl = defineImpl({
  spec: k8sWait,
  async run(input, ctx) {
    const cluster = connect(input.cluster, ctx);
    const started = Date.now();
    const deadline = started + parseDuration(input.timeout)!;
    for (;;) {
      const poll: Poll = { ready: [], waiting: [] };
      try {
        await deployments(cluster, input, poll);
        await pods(cluster, input, poll);
        await jobs(cluster, input, poll);
      } catch (error) {
        throw k8sFailure(error, `waiting in namespace ${input.namespace} of ${cluster.server}`, ctx);
      }
      if (!poll.waiting.length) return { namespace: input.namespace, ready: poll.ready, waited_ms: Date.now() - started };
      ctx.heartbeat({ ready: poll.ready, waiting: poll.waiting });
      if (Date.now() > deadline)
        throw new ActionError('timeout', `still waiting after ${input.timeout} in namespace ${input.namespace}: ${poll.waiting.join('; ')}`, {
          retryable: false,
        });
      await pause(1000, ctx.signal);
    }
  },
});
