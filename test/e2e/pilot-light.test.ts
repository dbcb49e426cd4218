// pilot-light.yaml end to end: a real control plane (kwok nodes), PowerDNS, HAProxy, Temporal and `rebound worker` processes — failover, failback, drill, a crash mid-rollout.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { NODE_NAME, startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { PRIMARY_IP, startFailoverSite, type FailoverSite } from '../../stack/failover-site.ts';
import { rebound } from '../helpers/cli.ts';
import { historyText } from '../helpers/history.ts';
import { apply, deployment, getJson, namespace } from '../helpers/kubernetes.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor, waitForHeartbeat } from '../helpers/runs.ts';
import { startTogether } from '../helpers/servers.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const address = inject('temporalAddress');
const bundle = inject('workflowBundle');
const queue = uniqueSite('pilot-light');
const workers: WorkerProcess[] = [];
let site: FailoverSite;
let cluster: KubernetesCluster;
let client: Client;

const runbook = readFileSync(new URL('../../runbooks/pilot-light.yaml', import.meta.url), 'utf8');
const cli = (args: string[]) => rebound(args, { TEMPORAL_ADDRESS: address });
const worker = async () => {
  const started = await startWorkerProcess({
    address,
    site: queue,
    bundle,
    env: { PDNS_API_KEY: site.pdns.apiKey, DR_KUBECONFIG: cluster.adminKubeconfig },
    startTimeoutMs: 120_000,
  });
  workers.push(started);
  return started;
};

/** Replicas of every standby workload, and each one's generation (which only a spec change bumps). */
function workloads(): Record<string, { replicas: number; generation: number }> {
  const list = getJson<{ items: { kind: string; metadata: { name: string; generation: number }; spec: { replicas: number } }[] }>(cluster, [
    'deployments',
    '-n',
    'orders',
  ]);
  return Object.fromEntries(list.items.map((d) => [d.metadata.name, { replicas: d.spec.replicas, generation: d.metadata.generation }]));
}

beforeAll(async () => {
  [site, cluster] = await startTogether(
    startFailoverSite({ log: (line) => console.log(`[pilot-light test] ${line}`) }),
    startKubernetes({ log: (line) => console.log(`[k8s] ${line}`) }),
  );
  namespace(cluster, 'orders');
  apply(cluster, deployment('web', 'orders', 0, { labels: { tier: 'standby' } }));
  apply(cluster, deployment('api', 'orders', 1, { labels: { tier: 'standby' } }));
  client = await connect(address);
  await worker();
}, 1_800_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await site?.stop();
  await cluster?.stop();
});

/** The site's endpoints this runbook takes (it does not probe the primary), warming to 3 replicas. */
const params = () => {
  const { primary_url: _unused, ...rest } = site.params;
  return { ...rest, replicas: 3, warm_timeout: '2m' };
};

describe('pilot-light.yaml on a real control plane', () => {
  it('warms the DR site, switches traffic, and the generated failback scales back to exactly what it found', { timeout: 300_000 }, async () => {
    const before = { site: await site.state(), k8s: workloads() };
    site.setPrimaryHealthy(false);
    const handle = await start(client, planOf(runbook), queue, params());
    const status = await finalStatus(handle);
    expect(status.error).toBeUndefined();
    expect(stepOf(status, 'warm-standby').outputs).toMatchObject({ previous: { 'deployment/api': 1, 'deployment/web': 0 }, changed: true });
    expect(Object.values(workloads()).map((w) => w.replicas)).toEqual([3, 3]);
    expect((await site.state()).dns?.values).not.toEqual([PRIMARY_IP]);
    // The kubeconfig's client key never reached the history.
    const key = /client-key-data: (\S+)/.exec(cluster.adminKubeconfig)![1]!;
    const history = historyText(await handle.fetchHistory());
    expect(history).not.toContain(key);
    expect(history).not.toContain(Buffer.from(key, 'base64').toString().split('\n')[1]);

    const back = await cli(['failback', handle.workflowId, '--site', queue, '--id', `${handle.workflowId}-back`]);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/revert-warm-standby\s+k8s\.scale\s+main\s+succeeded/);
    site.setPrimaryHealthy(true);
    expect(await site.state()).toEqual(before.site);
    expect(Object.fromEntries(Object.entries(workloads()).map(([k, v]) => [k, v.replicas]))).toEqual({ api: 1, web: 0 });
  });

  it('a drill changes nothing in the cluster and reports the scale it would make', { timeout: 240_000 }, async () => {
    const before = cluster.kubectl([
      'get',
      'deployments',
      '-n',
      'orders',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}',
    ]);
    const handle = await start(client, planOf(runbook, { mode: 'drill' }), queue, params());
    const status = await finalStatus(handle);
    expect(status.error).toBeUndefined();
    expect(cluster.kubectl(['get', 'deployments', '-n', 'orders', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}'])).toBe(
      before,
    );
    const report = JSON.parse((await cli(['report', handle.workflowId, '--format', 'json'])).stdout);
    const scale = report.changes.find((c: { step: string }) => c.step === 'warm-standby');
    expect(scale).toMatchObject({ simulated: true, changed: true });
    expect(scale.preflight).toContain('would scale deployment/api from 1 to 3, deployment/web from 0 to 3');
  });

  it('a worker SIGKILLed while the rollout is waited for: the wait resumes, the scale is patched once, previous is kept', { timeout: 300_000 }, async () => {
    // Pods of web can only land on a node labelled zone=dr, which the node gets only after the crash.
    cluster.kubectl([
      'patch',
      'deployment',
      'web',
      '-n',
      'orders',
      '--type=merge',
      '-p',
      '{"spec":{"template":{"spec":{"nodeSelector":{"rebound.test/zone":"dr"}}}}}',
    ]);
    expect(workloads()).toMatchObject({ api: { replicas: 1 }, web: { replicas: 0 } });
    const before = workloads();
    const crashing = runbook.replace('      timeout: 15m\n', '      timeout: 15m\n      heartbeat_timeout: 5s\n');
    expect(crashing).toContain('heartbeat_timeout: 5s');
    const handle = await start(client, planOf(crashing), queue, { ...params(), replicas: 2 });
    await waitFor(handle, (s) => stepOf(s, 'warm-standby').status === 'running' && workloads().web!.replicas === 2, 120_000);
    // Heartbeats leave a worker throttled: the kill waits until the server holds the one that records what the scale found.
    await waitForHeartbeat(handle, (d) => (d as { scaling?: { previous?: Record<string, number> } })?.scaling?.previous?.['deployment/web'] === 0);
    await workers.at(-1)!.kill('SIGKILL');
    await worker();
    cluster.kubectl(['label', 'node', NODE_NAME, 'rebound.test/zone=dr']);

    const status = await finalStatus(handle);
    expect(status.error).toBeUndefined();
    expect(stepOf(status, 'warm-standby').attempt).toBeGreaterThanOrEqual(2);
    expect(stepOf(status, 'warm-standby').outputs).toMatchObject({ previous: { 'deployment/api': 1, 'deployment/web': 0 }, current: { 'deployment/web': 2 } });
    // One scale per object: a second patch to another count would have bumped the generation again.
    const after = workloads();
    expect(after.web!.generation).toBe(before.web!.generation + 1);
    expect(after.api!.generation).toBe(before.api!.generation + 1);
    expect(getJson<{ status: { readyReplicas: number } }>(cluster, ['deployment/web', '-n', 'orders']).status.readyReplicas).toBe(2);
    cluster.kubectl(['label', 'node', NODE_NAME, 'rebound.test/zone-']);
  });
});
