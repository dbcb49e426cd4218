// P7: k8s.backup of a namespace with 5,000 objects through a worker process vs `kubectl get -o yaml` of the same kinds, same cluster, alternating.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { compile } from '../compiler/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { buildWorkflowBundle } from '../worker/bundle.ts';
import { startKubernetes, type KubernetesCluster } from '../stack/kubernetes/cluster.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { median, type Row } from './report.ts';

const NAMESPACE = 'bench';
const KINDS = ['configmaps', 'secrets'];

const peakRssMb = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'))!
      .replace(/\D+/g, ''),
  ) / 1024;

/** `objects` ConfigMaps and Secrets (4:1) of about 1 KB each, created 32 at a time. */
async function seed(cluster: KubernetesCluster, objects: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(cluster.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const payload = 'x'.repeat(900);
  let next = 0;
  const lane = async () => {
    while (next < objects) {
      const i = next++;
      const metadata = { name: `item-${i}`, namespace: NAMESPACE, labels: { app: 'bench', shard: String(i % 10) } };
      if (i % 5 === 4) await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata, stringData: { token: `${payload}${i}` } } });
      else await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata, data: { body: `${payload}${i}` } } });
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
}

function kubectlGet(cluster: KubernetesCluster): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cluster.kubectlPath, ['--kubeconfig', cluster.adminKubeconfigFile, 'get', KINDS.join(','), '-n', NAMESPACE, '-o', 'yaml'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.pipe(createWriteStream('/dev/null'));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`kubectl exited ${code}`))));
  });
}

export async function p7(results: Record<string, unknown>): Promise<Row[]> {
  const objects = Number(process.env.BENCH_P7_OBJECTS ?? 5000);
  const rounds = Number(process.env.BENCH_P7_ROUNDS ?? 3);
  const dir = join(DATA, `bench-p7-${process.pid}`);
  const cluster = await startKubernetes({ log: (line) => console.error(`P7: ${line}`) });
  const temporal = await startTemporal({ dir });
  try {
    const t0 = performance.now();
    await seed(cluster, objects);
    console.error(`P7: ${objects} objects created in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const bundle = await buildWorkflowBundle(join(dir, 'bundle.js'));
    const worker = await startWorkerProcess({ address: temporal.address, site: 'bench', bundle, env: { BENCH_KUBECONFIG: cluster.adminKubeconfig } });
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const plan = compile(
      `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: p7}\nspec:
  secrets: {kc: {env: BENCH_KUBECONFIG}}
  steps:
    - id: backup
      uses: k8s.backup
      with:
        cluster: {kubeconfig: "\${{ secrets.kc }}"}
        namespace: ${NAMESPACE}
        service: bench-k8s
        kinds: [${KINDS.join(', ')}]
        storage: {url: "file://${join(dir, 'store')}"}
`,
      { file: 'p7.yaml' },
    ).plan!;
    let stored = 0;
    const rebound = async () => {
      const t = performance.now();
      const status = await finalStatus(await startRun(client, plan, {}, { taskQueue: 'rebound-bench' }));
      if (status.state !== 'succeeded') throw new Error(`backup run ${status.state}: ${status.error}`);
      stored = Number(status.steps[0]!.outputs!.objects);
      return performance.now() - t;
    };
    const kubectlMs: number[] = [];
    const reboundMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = [() => kubectlGet(cluster).then((t) => kubectlMs.push(t)), () => rebound().then((t) => reboundMs.push(t))];
      for (let i = 0; i < order.length; i++) await order[(i + round) % order.length]!();
      console.error(`P7 round ${round + 1}/${rounds}: kubectl get -o yaml ${kubectlMs.at(-1)!.toFixed(0)} ms, k8s.backup ${reboundMs.at(-1)!.toFixed(0)} ms`);
    }
    const rss = peakRssMb(worker.child.pid!);
    await worker.kill();
    const ratio = median(reboundMs) / median(kubectlMs);
    results.p7 = { objects, stored_objects: stored, rounds, kubectl_ms: kubectlMs, rebound_ms: reboundMs, wall_time_ratio: ratio, worker_peak_rss_mb: rss };
    return [
      {
        id: 'P7',
        what: `k8s.backup (run start → point committed) vs kubectl get ${KINDS.join(',')} -o yaml, ${objects} objects (median of ${rounds})`,
        value: `${ratio.toFixed(2)}× wall time (${median(reboundMs).toFixed(0)} vs ${median(kubectlMs).toFixed(0)} ms)`,
        goal: '(reported)',
        met: true,
      },
      { id: 'P7', what: 'worker peak RSS during those backups', value: `${rss.toFixed(0)} MB`, goal: '(reported)', met: true },
    ];
  } finally {
    await temporal.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
