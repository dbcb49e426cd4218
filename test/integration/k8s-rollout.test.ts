// k8s.rollout against a real control plane (kube-apiserver, controllers, kwok nodes): restarts, image changes and their revert, guards, retries, drills, timeouts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sRolloutImpl } from '../../activities/kubernetes/rollout.ts';
import { k8sRollout } from '../../contract/actions/kubernetes-rollout.ts';
import { startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';
import { apply, deployment, getJson, namespace, statefulSet } from '../helpers/kubernetes.ts';

let cluster: KubernetesCluster;
const NS = 'inference-dr';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

beforeAll(async () => {
  cluster = await startKubernetes({ log: (line) => console.log(`[k8s] ${line}`) });
  process.env.K8S_TEST_KUBECONFIG = cluster.adminKubeconfig;
  namespace(cluster, NS);
  apply(cluster, deployment('model', NS, 2));
  apply(cluster, deployment('gateway', NS, 1));
  apply(cluster, statefulSet('cache', NS, 2));
  apply(cluster, deployment('stuck', NS, 1, { unschedulable: true }));
  // Every test starts from a finished rollout, so what it reads as `previous` is settled (the revision is set).
  for (const ref of ['deployment/model', 'deployment/gateway', 'statefulset/cache']) cluster.kubectl(['rollout', 'status', ref, '-n', NS, '--timeout=120s']);
}, 1_800_000); // the first run builds the control plane from the Go module proxy (≈ 10 min)

afterAll(async () => {
  await cluster?.stop();
});

const { input, run } = stepRunner({
  runbook: 'ml-inference-dr',
  step: 'redeploy-primary',
  with: () => ({ cluster: { kubeconfig: { $secret: 'kubeconfig' } }, namespace: NS }),
  secrets: { kubeconfig: { env: 'K8S_TEST_KUBECONFIG' } },
});

interface Object_ {
  metadata: { generation: number; resourceVersion: string; annotations?: Record<string, string> };
  spec: { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } } };
  status: { readyReplicas?: number; updatedReplicas?: number; currentRevision?: string; updateRevision?: string };
}
const object = (ref: string) => getJson<Object_>(cluster, [ref, '-n', NS]);

/** What a change would touch: the generation, the object's annotations, the pod template (status writes by the controllers are not changes). */
const unchanged = (ref: string) => {
  const { metadata, spec } = object(ref);
  return JSON.stringify({ generation: metadata.generation, annotations: metadata.annotations, template: spec.template });
};

/** The pods a workload owns now (terminating ones left out), with their restart annotation. */
const livePods = (app: string) =>
  getJson<{ items: { metadata: { deletionTimestamp?: string; annotations?: Record<string, string> } }[] }>(cluster, [
    'pods',
    '-l',
    `app=${app}`,
    '-n',
    NS,
  ]).items.filter((p) => !p.metadata.deletionTimestamp);

describe('k8s.rollout restart', () => {
  it('sets restartedAt as kubectl does, waits for every new pod, and has nothing to revert', { timeout: 180_000 }, async () => {
    const before = object('deployment/model');
    const { outputs } = await run(k8sRolloutImpl, { kind: 'Deployment', name: 'model', restart: true, timeout: '2m' });
    expect(outputs).toMatchObject({
      namespace: NS,
      workload: 'deployment/model',
      previous: { images: { app: 'registry.invalid/orders:1' }, generation: before.metadata.generation, revision: '1' },
      current: { images: { app: 'registry.invalid/orders:1' }, generation: before.metadata.generation + 1, revision: '2' },
      changed: true,
      simulated: false,
    });
    const stamp = (outputs.current as { restarted_at: string }).restarted_at;
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(object('deployment/model').spec.template.metadata.annotations?.[RESTARTED_AT]).toBe(stamp);
    // Waited for: both replicas are new pods, Ready.
    expect(object('deployment/model').status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });
    const pods = livePods('model');
    expect(pods).toHaveLength(2);
    for (const pod of pods) expect(pod.metadata.annotations?.[RESTARTED_AT]).toBe(stamp);
    expect(k8sRollout.revert!(input(k8sRolloutImpl, { kind: 'Deployment', name: 'model', restart: true }).with, outputs)).toBeUndefined();
  });

  it('a retry of the same step recognises its own restart and does not restart again; another run does', { timeout: 180_000 }, async () => {
    const step = { kind: 'Deployment', name: 'gateway', restart: true, timeout: '2m' };
    // The first attempt "crashes" after its patch (it does not wait); the second attempt of the same run and step takes over.
    const first = await run(k8sRolloutImpl, { ...step, wait: false }, { run_id: 'run-crash' });
    const patched = object('deployment/gateway');
    const retry = await run(k8sRolloutImpl, step, { run_id: 'run-crash', attempt: 2 });
    expect(retry.outputs).toMatchObject({
      changed: true,
      previous: first.outputs.previous,
      current: { restarted_at: (first.outputs.current as { restarted_at: string }).restarted_at },
    });
    expect(object('deployment/gateway').metadata.generation).toBe(patched.metadata.generation);
    expect(object('deployment/gateway').spec.template.metadata.annotations?.[RESTARTED_AT]).toBe(patched.spec.template.metadata.annotations?.[RESTARTED_AT]);
    // Another run restarts again, even within the same second.
    const again = await run(k8sRolloutImpl, step, { run_id: 'run-next' });
    expect(again.outputs).toMatchObject({ changed: true, current: { generation: patched.metadata.generation + 1 } });
    expect((again.outputs.current as { restarted_at: string }).restarted_at).not.toBe(patched.spec.template.metadata.annotations?.[RESTARTED_AT]);
  });

  it('a StatefulSet restart waits until every pod is at the new revision', { timeout: 180_000 }, async () => {
    const before = object('statefulset/cache');
    const { outputs } = await run(k8sRolloutImpl, { kind: 'StatefulSet', name: 'cache', restart: true, timeout: '2m' });
    const after = object('statefulset/cache');
    expect(outputs).toMatchObject({ changed: true, previous: { revision: before.status.updateRevision }, current: { revision: after.status.updateRevision } });
    expect(after.status.updateRevision).not.toBe(before.status.updateRevision);
    expect(after.status.currentRevision).toBe(after.status.updateRevision);
    expect(after.status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });
  });
});

describe('k8s.rollout image', () => {
  it('sets one container image and waits; the same image again changes nothing; revert puts the previous image back', { timeout: 240_000 }, async () => {
    const step = {
      kind: 'Deployment',
      name: 'model',
      image: { container: 'app', image: 'registry.invalid/orders:2' },
      expect_current: { app: 'registry.invalid/orders:1' },
    };
    const up = await run(k8sRolloutImpl, { ...step, timeout: '2m' });
    expect(up.outputs).toMatchObject({
      changed: true,
      previous: { images: { app: 'registry.invalid/orders:1' } },
      current: { images: { app: 'registry.invalid/orders:2' } },
    });
    expect(object('deployment/model').spec.template.spec.containers[0]!.image).toBe('registry.invalid/orders:2');
    expect(object('deployment/model').status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });

    const generation = object('deployment/model').metadata.generation;
    const same = await run(k8sRolloutImpl, { kind: 'Deployment', name: 'model', image: { container: 'app', image: 'registry.invalid/orders:2' } });
    expect(same.outputs).toMatchObject({ changed: false, current: { images: { app: 'registry.invalid/orders:2' }, generation } });
    expect(object('deployment/model').metadata.generation).toBe(generation);
    expect(k8sRollout.revert!({}, same.outputs)).toBeUndefined();

    const back = k8sRollout.revert!(input(k8sRolloutImpl, step).with, up.outputs)!;
    expect(back).toMatchObject({ image: { container: 'app', image: 'registry.invalid/orders:1' }, expect_current: { app: 'registry.invalid/orders:2' } });
    const down = await run(k8sRolloutImpl, { ...back, timeout: '2m' });
    expect(down.outputs).toMatchObject({ changed: true, current: { images: { app: 'registry.invalid/orders:1' } } });
    expect(object('deployment/model').spec.template.spec.containers[0]!.image).toBe('registry.invalid/orders:1');
  });

  it('expect_current that does not hold is refused and nothing changes', async () => {
    const before = unchanged('deployment/model');
    const failure = await failureOf(
      run(k8sRolloutImpl, {
        kind: 'Deployment',
        name: 'model',
        image: { container: 'app', image: 'registry.invalid/orders:3' },
        expect_current: { app: 'registry.invalid/orders:9' },
      }),
    );
    expect(failure.type).toBe('conflict');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(
      'expect_current does not hold for deployment/model: container app runs registry.invalid/orders:1, expected registry.invalid/orders:9',
    );
    expect((failure.details?.[0] as { partial?: unknown }).partial).toEqual({ changed: false });
    expect(unchanged('deployment/model')).toBe(before);
  });

  it('a container the template does not have, or a workload that does not exist, is not_found', async () => {
    const missing = await failureOf(run(k8sRolloutImpl, { kind: 'Deployment', name: 'model', image: { container: 'sidecar', image: 'registry.invalid/x:1' } }));
    expect(missing.type).toBe('not_found');
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('deployment/model in inference-dr has no container "sidecar"; its pod template has: app');
    const absent = await failureOf(run(k8sRolloutImpl, { kind: 'StatefulSet', name: 'ghost', restart: true }));
    expect(absent.type).toBe('not_found');
    expect(absent.message).toContain('reading statefulset/ghost in namespace inference-dr');
  });

  it('neither or both of restart and image is invalid input', async () => {
    const both = await failureOf(run(k8sRolloutImpl, { kind: 'Deployment', name: 'model', restart: true, image: { container: 'app', image: 'x:1' } }));
    expect(both.type).toBe('invalid_input');
    expect(both.message).toContain('give exactly one of restart: true or image: {container, image}');
  });
});

describe('k8s.rollout timeouts and drills', () => {
  it('a rollout that never completes times out naming the workload, with what it changed for failback', { timeout: 60_000 }, async () => {
    const failure = await failureOf(
      run(k8sRolloutImpl, { kind: 'Deployment', name: 'stuck', image: { container: 'app', image: 'registry.invalid/orders:2' }, timeout: '3s' }),
    );
    expect(failure.type).toBe('timeout');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/the rollout did not complete within 3s in namespace inference-dr: deployment\/stuck: /);
    const partial = (failure.details?.[0] as { partial?: { previous: unknown; target: unknown } }).partial;
    expect(partial).toMatchObject({ previous: { images: { app: 'registry.invalid/orders:1' } }, target: { images: { app: 'registry.invalid/orders:2' } } });
    // What failback builds from that partial: back to the image found, guarded by the one set.
    const back = k8sRollout.revert!(
      { kind: 'Deployment', name: 'stuck', image: { container: 'app', image: 'registry.invalid/orders:2' } },
      {
        previous: partial!.previous,
        current: partial!.target,
        changed: true,
      },
    );
    expect(back).toMatchObject({ image: { image: 'registry.invalid/orders:1' }, expect_current: { app: 'registry.invalid/orders:2' } });
  });

  it('a drill reads the workload, checks the container and the rights, says what a run would change, and changes nothing', async () => {
    const before = unchanged('deployment/model');
    const { outputs } = await run(
      k8sRolloutImpl,
      { kind: 'Deployment', name: 'model', image: { container: 'app', image: 'registry.invalid/orders:5' } },
      { simulate: true },
    );
    expect(outputs).toMatchObject({
      simulated: true,
      changed: true,
      previous: { images: { app: 'registry.invalid/orders:1' } },
      current: { images: { app: 'registry.invalid/orders:5' } },
    });
    expect(outputs.preflight).toEqual([
      `deployment/model exists in namespace ${NS} of ${cluster.server}; its containers: app=registry.invalid/orders:1`,
      'these credentials may patch deployment/model',
      'would set container app of deployment/model in inference-dr from registry.invalid/orders:1 to registry.invalid/orders:5, replacing its 2 pods',
    ]);
    const restart = await run(k8sRolloutImpl, { kind: 'StatefulSet', name: 'cache', restart: true }, { simulate: true });
    expect((restart.outputs.preflight as string[]).at(-1)).toBe(
      `would restart statefulset/cache in ${NS} (a new ${RESTARTED_AT} on its pod template), replacing its 2 pods`,
    );
    // Its would-be after carries the stamp a run would write now, so a report shows a change.
    const [was, would] = [restart.outputs.previous, restart.outputs.current] as { restarted_at?: string }[];
    expect(would!.restarted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(would!.restarted_at).not.toBe(was!.restarted_at);
    const missing = await failureOf(run(k8sRolloutImpl, { kind: 'Deployment', name: 'model', image: { container: 'gpu', image: 'x:1' } }, { simulate: true }));
    expect(missing.message).toContain('preflight failed: deployment/model in inference-dr has no container "gpu"');
    expect(unchanged('deployment/model')).toBe(before);
  });
});
