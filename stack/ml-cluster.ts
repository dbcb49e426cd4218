// The ML site's Kubernetes side: namespace `inference` with the primary's model-server Deployment on the loopback control plane, and how far its last redeploy got.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KubernetesCluster } from './kubernetes/cluster.ts';

export const NAMESPACE = 'inference';
export const DEPLOYMENT = 'model';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const run = promisify(execFile);

/** Two replicas kwok marks Ready; no grace period, since deletions would wait for a kubelet that does not exist. */
function modelDeployment(): string {
  const labels = { app: DEPLOYMENT, tier: 'inference' };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEPLOYMENT, namespace: NAMESPACE, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: DEPLOYMENT } },
      template: {
        metadata: { labels },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'server', image: 'registry.invalid/model-server:7' }] },
      },
    },
  });
}

/** What a redeploy changes and finishes: the template's restart mark, its generation, and whether every replica is on it. */
export interface DeploymentFacts {
  generation: number;
  restartedAt?: string;
  /** Every replica updated and available at the current generation (`kubectl rollout status` would return). */
  rolledOut: boolean;
}

interface DeploymentJson {
  metadata: { generation: number };
  spec: { replicas?: number; template: { metadata: { annotations?: Record<string, string> } } };
  status: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

/** Read without blocking the event loop (the site's stand-ins keep answering meanwhile). */
export async function readDeployment(cluster: KubernetesCluster): Promise<DeploymentFacts> {
  const args = ['--kubeconfig', cluster.adminKubeconfigFile, 'get', 'deployment', DEPLOYMENT, '-n', NAMESPACE, '-o', 'json'];
  const { stdout } = await run(cluster.kubectlPath, args, { maxBuffer: 16 << 20 });
  const d = JSON.parse(stdout) as DeploymentJson;
  const want = d.spec.replicas ?? 1;
  const s = d.status;
  return {
    generation: d.metadata.generation,
    restartedAt: d.spec.template.metadata.annotations?.[RESTARTED_AT],
    rolledOut: (s.observedGeneration ?? 0) >= d.metadata.generation && s.updatedReplicas === want && s.availableReplicas === want && s.replicas === want,
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The namespace (once its default service account exists, pods can be made) and the Deployment, rolled out. */
export async function seedInference(cluster: KubernetesCluster): Promise<void> {
  cluster.kubectl(['create', 'namespace', NAMESPACE]);
  const kubectl = (args: string[]) => run(cluster.kubectlPath, ['--kubeconfig', cluster.adminKubeconfigFile, ...args]);
  await until(`namespace ${NAMESPACE}'s default service account`, async () => !!(await kubectl(['get', 'serviceaccount', 'default', '-n', NAMESPACE])), 60_000);
  cluster.kubectl(['apply', '--server-side', '-f', '-'], modelDeployment());
  await until(`deployment/${DEPLOYMENT} rolled out`, async () => (await readDeployment(cluster)).rolledOut, 120_000);
}
