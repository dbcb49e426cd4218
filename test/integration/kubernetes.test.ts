// k8s.scale and k8s.wait against a real control plane (kube-apiserver, controllers, kwok nodes): previous/revert, timeouts, rights, drills.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { k8sScaleImpl } from '../../activities/kubernetes/scale.ts';
import { k8sWaitImpl } from '../../activities/kubernetes/wait.ts';
import { stepRunner } from '../helpers/activity.ts';
import { k8sScale } from '../../contract/actions/kubernetes.ts';
import { startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { apply, deployment, getJson, namespace, readOnlyToken, statefulSet, tokenWithoutRights } from '../helpers/kubernetes.ts';
import { failureOf } from '../helpers/failure.ts';

let cluster: KubernetesCluster;
const NS = 'orders-dr';

beforeAll(async () => {
  cluster = await startKubernetes({ log: (line) => console.log(`[k8s] ${line}`) });
  process.env.K8S_TEST_KUBECONFIG = cluster.adminKubeconfig;
  namespace(cluster, NS);
  apply(cluster, deployment('web', NS, 0, { labels: { tier: 'standby' } }));
  apply(cluster, deployment('api', NS, 0, { labels: { tier: 'standby' } }));
  apply(cluster, statefulSet('queue', NS, 0, { tier: 'standby' }));
  apply(cluster, deployment('stuck', NS, 0, { unschedulable: true }));
}, 1_800_000); // the first run builds the control plane from the Go module proxy (≈ 10 min)

afterAll(async () => {
  await cluster?.stop();
});

const { input, run } = stepRunner({
  runbook: 'pilot-light',
  runId: 'run-1',
  step: 'warm-standby',
  with: () => ({ cluster: { kubeconfig: { $secret: 'kubeconfig' } }, namespace: NS }),
  secrets: { kubeconfig: { env: 'K8S_TEST_KUBECONFIG' } },
});

const replicas = (ref: string) => getJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>(cluster, [ref, '-n', NS]);

describe('k8s.scale on a real control plane', () => {
  it('warms the standby by selector, records previous per object, and its revert scales back exactly', { timeout: 180_000 }, async () => {
    apply(cluster, deployment('api', NS, 1, { labels: { tier: 'standby' } }));
    const up = await run(k8sScaleImpl, { selector: 'tier=standby', replicas: 3, timeout: '2m' });
    expect(up.outputs).toEqual({
      namespace: NS,
      workloads: ['deployment/api', 'deployment/web', 'statefulset/queue'],
      previous: { 'deployment/api': 1, 'deployment/web': 0, 'statefulset/queue': 0 },
      current: { 'deployment/api': 3, 'deployment/web': 3, 'statefulset/queue': 3 },
      changed: true,
      simulated: false,
    });
    // The rollout was waited for: kwok's pods are Ready, not merely requested.
    for (const ref of ['deployment/web', 'deployment/api', 'statefulset/queue']) expect(replicas(ref).status.readyReplicas).toBe(3);

    const back = k8sScale.revert!(input(k8sScaleImpl, { selector: 'tier=standby', replicas: 3 }).with, up.outputs)!;
    expect(back).toMatchObject({
      workloads: ['deployment/api', 'deployment/web', 'statefulset/queue'],
      replicas: { 'deployment/api': 1, 'deployment/web': 0, 'statefulset/queue': 0 },
      expect_current: { 'deployment/api': 3, 'deployment/web': 3, 'statefulset/queue': 3 },
    });
    expect(back).not.toHaveProperty('selector');
    const down = await run(k8sScaleImpl, back);
    expect(down.outputs).toMatchObject({ changed: true, current: { 'deployment/api': 1, 'deployment/web': 0, 'statefulset/queue': 0 } });
    expect(replicas('deployment/api').spec.replicas).toBe(1);
    expect(replicas('deployment/web').spec.replicas).toBe(0);
    expect(replicas('statefulset/queue').spec.replicas).toBe(0);
  });

  it('already at the target: nothing is patched (the generation stays) and changed is false', { timeout: 60_000 }, async () => {
    const before = getJson<{ metadata: { generation: number } }>(cluster, ['deployment/web', '-n', NS]).metadata.generation;
    const { outputs } = await run(k8sScaleImpl, { workloads: ['deployment/web'], replicas: 0 });
    expect(outputs).toMatchObject({ changed: false, previous: { 'deployment/web': 0 } });
    expect(getJson<{ metadata: { generation: number } }>(cluster, ['deployment/web', '-n', NS]).metadata.generation).toBe(before);
    expect(k8sScale.revert!({}, outputs)).toBeUndefined();
  });

  it('expect_current that does not hold refuses to scale anything', async () => {
    const failure = await failureOf(run(k8sScaleImpl, { workloads: ['deployment/web', 'deployment/api'], replicas: 2, expect_current: 0 }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('deployment/api has 1 replicas, expected 0');
    expect(replicas('deployment/web').spec.replicas).toBe(0);
  });

  it('a Deployment that never becomes ready times out naming its unready pods', { timeout: 120_000 }, async () => {
    // The pods exist and the scheduler has refused them before the 5s wait starts: on a loaded machine
    // the controllers may take longer than that, and the timeout would then name no pods.
    await run(k8sScaleImpl, { workloads: ['deployment/stuck'], replicas: 2, wait: false });
    const refused = () =>
      getJson<{ items: { status?: { conditions?: { type: string; reason?: string }[] } }[] }>(cluster, ['pods', '-l', 'app=stuck', '-n', NS]).items.filter(
        (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'),
      ).length;
    const deadline = Date.now() + 60_000;
    while (refused() < 2) {
      if (Date.now() > deadline) throw new Error('the scheduler did not refuse both pods of deployment/stuck within 60s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const failure = await failureOf(run(k8sScaleImpl, { workloads: ['deployment/stuck'], replicas: 2, timeout: '5s' }));
    expect(failure.type).toBe('timeout');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/kubernetes: step "warm-standby": the rollout did not complete within 5s in namespace orders-dr: deployment\/stuck: /);
    expect(failure.message).toMatch(/unready pods: stuck-[a-z0-9]+-[a-z0-9]+ \(Pending: Unschedulable — 0\/1 nodes are available/);
    await run(k8sScaleImpl, { workloads: ['deployment/stuck'], replicas: 0, wait: false });
  });

  it('a token without rights fails without retry, says so, and the token appears nowhere', async () => {
    const token = tokenWithoutRights(cluster, NS);
    process.env.K8S_TEST_NO_RIGHTS = cluster.kubeconfigForToken(token, 'no-rights');
    const failure = await failureOf(
      run(k8sScaleImpl, { workloads: ['deployment/web'], replicas: 1 }, { secrets: { kubeconfig: { env: 'K8S_TEST_NO_RIGHTS' } } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('auth_failed');
    expect(failure.message).toContain(
      'forbidden (403): deployments.apps "web" is forbidden: User "system:serviceaccount:orders-dr:no-rights" cannot get resource',
    );
    expect(JSON.stringify(failure)).not.toContain(token);
    expect(failure.message).not.toContain(token.slice(-20));
  });

  it('a kubeconfig given as a file path works, and an unknown context is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-kc-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config');
    writeFileSync(file, cluster.adminKubeconfig, { mode: 0o600 });
    process.env.K8S_TEST_KUBECONFIG_PATH = file;
    const secrets = { kubeconfig: { env: 'K8S_TEST_KUBECONFIG_PATH' } };
    const { outputs } = await run(k8sWaitImpl, { deployments: ['api'], timeout: '30s' }, { secrets });
    expect(outputs).toMatchObject({ ready: ['deployment/api'] });
    const failure = await failureOf(
      run(k8sWaitImpl, { cluster: { kubeconfig: { $secret: 'kubeconfig' }, context: 'prod' }, deployments: ['api'] }, { secrets }),
    );
    expect(failure.message).toContain('the kubeconfig has no context "prod"; it has: admin@rebound-test');
  });
});

describe('k8s.scale in a drill', () => {
  it('changes nothing: proves the objects exist and the credentials may patch their scale, and reports the change', async () => {
    const before = cluster.kubectl([
      'get',
      'deployments,statefulsets',
      '-n',
      NS,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}',
    ]);
    const { outputs } = await run(k8sScaleImpl, { selector: 'tier=standby', replicas: 2 }, { simulate: true });
    expect(outputs).toMatchObject({ simulated: true, changed: true, previous: { 'deployment/web': 0, 'deployment/api': 1 } });
    expect(outputs.preflight).toEqual([
      `deployment/api, deployment/web, statefulset/queue exist in namespace ${NS} of ${cluster.server}`,
      'these credentials may patch the scale of deployment/api, deployment/web, statefulset/queue',
      'would scale deployment/api from 1 to 2, deployment/web from 0 to 2, statefulset/queue from 0 to 2',
    ]);
    expect(
      cluster.kubectl(['get', 'deployments,statefulsets', '-n', NS, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}']),
    ).toBe(before);
  });

  it('finds the replicas an earlier simulated step would have left (a drill carries them), for the objects it scaled', async () => {
    const carried = { state: { 'deployment/web': 2 }, from: 'warm-web' };
    const w = { selector: 'tier=standby', replicas: 2, expect_current: { 'deployment/web': 2, 'deployment/api': 1, 'statefulset/queue': 0 } };
    const { outputs } = await run(k8sScaleImpl, w, { simulate: true, drill_state: carried });
    expect(outputs).toMatchObject({ changed: true, previous: { 'deployment/web': 2, 'deployment/api': 1, 'statefulset/queue': 0 } });
    expect(outputs.preflight).toContain(
      'replicas as the earlier step "warm-web" would have left them: deployment/api=1, deployment/web=2, statefulset/queue=0 (really there now: deployment/api=1, deployment/web=0, statefulset/queue=0)',
    );
    expect(outputs.preflight).toContain('would scale deployment/api from 1 to 2, statefulset/queue from 0 to 2');
    const refused = await failureOf(run(k8sScaleImpl, { ...w, expect_current: 0 }, { simulate: true, drill_state: carried }));
    expect(refused.message).toContain('deployment/web has 2 replicas (as the earlier step "warm-web" would have left it), expected 0');
  });

  it('credentials that may read but not scale fail the preflight, before any run would', async () => {
    process.env.K8S_TEST_READER = cluster.kubeconfigForToken(readOnlyToken(cluster, NS), 'reader');
    const failure = await failureOf(
      run(k8sScaleImpl, { workloads: ['deployment/web'], replicas: 2 }, { simulate: true, secrets: { kubeconfig: { env: 'K8S_TEST_READER' } } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('preflight failed: these credentials may not patch the scale of deployment/web in orders-dr; a run would fail');
  });
});

describe('k8s.wait', () => {
  it('waits for Deployments and pods, and on timeout names what is missing', { timeout: 60_000 }, async () => {
    const ok = await run(k8sWaitImpl, { deployments: ['api'], pods: 'app=api', timeout: '30s' });
    expect(ok.outputs).toMatchObject({ namespace: NS, ready: ['deployment/api', 'pods app=api (1)'] });
    const failure = await failureOf(run(k8sWaitImpl, { deployments: ['api', 'ghost'], timeout: '2s' }));
    expect(failure.type).toBe('timeout');
    expect(failure.message).toContain('still waiting after 2s in namespace orders-dr: deployment/ghost: does not exist');
  });

  it('follows a Job to Complete (kwok plays its pod to Succeeded)', { timeout: 60_000 }, async () => {
    apply(
      cluster,
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'warmup', namespace: NS },
        spec: { template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'w', image: 'registry.invalid/w:1' }] } } },
      }),
    );
    const { outputs } = await run(k8sWaitImpl, { jobs: ['warmup'], timeout: '45s' });
    expect(outputs).toMatchObject({ ready: ['job/warmup'] });
  });
});
