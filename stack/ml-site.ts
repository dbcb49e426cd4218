// The model-inference site of runbooks/ml-inference-dr.yaml on loopback: two model-server stand-ins, HAProxy as the primary entry, moto's Route 53, Prometheus and a Kubernetes control plane.
import { command, parseLocation, readServers } from '../activities/routing/haproxy.ts';
import { startHaproxy, type HaproxyServer } from './haproxy.ts';
import { startKubernetes, type KubernetesCluster } from './kubernetes/cluster.ts';
import { DEPLOYMENT, NAMESPACE, readDeployment, seedInference, type DeploymentFacts } from './ml-cluster.ts';
import { MOTO_CREDENTIALS, seedFailoverZone, type FailoverZone } from './ml-route53.ts';
import { MODEL, startModelServer, type ModelServer } from './model-server.ts';
import { startMoto, type MotoServer } from './moto.ts';
import type { StackOwner } from './owner.ts';
import { startPrometheus, type PrometheusServer } from './prometheus.ts';

export { PUBLIC_NAME } from './ml-route53.ts';
const BACKEND = 'model';
const PRIMARY_IP = '127.0.0.1';
const STANDBY_IP = '127.0.0.2';

/** Everything the runbook changes, read straight from Route 53, HAProxy and the cluster: equal snapshots mean nothing changed. */
export interface MlSiteState {
  healthCheck: { inverted: boolean; disabled: boolean };
  haproxy: Record<string, { state: string; weight: number }>;
  deployment: { generation: number; restartedAt?: string };
}

export interface MlSite {
  primary: ModelServer;
  standby: ModelServer;
  haproxy: HaproxyServer;
  moto: MotoServer;
  prometheus: PrometheusServer;
  cluster: KubernetesCluster;
  zone: FailoverZone;
  /** Parameters of runbooks/ml-inference-dr.yaml for this site. */
  params: Record<string, string>;
  /** What a worker needs in its environment: the kubeconfig secret, and AWS credentials moto accepts. */
  env: Record<string, string>;
  /** The outage: the primary answers 503 (error ratio 1) until its Deployment has been redeployed and rolled out. */
  failPrimary(): Promise<void>;
  /** Waits until Prometheus holds each stand-in's current error ratio, so what a check reads is what the sites say now. */
  scraped(timeoutMs?: number): Promise<void>;
  /** Which failover record Route 53 would answer with: PRIMARY's while its health check passes (probing the entry, inverted if set). */
  answer(): Promise<'primary entry' | 'standby'>;
  state(): Promise<MlSiteState>;
  stop(): Promise<void>;
}

type Own = (name: string, stop: () => Promise<void>, pid?: () => number | undefined) => void;

async function startEntry(primary: ModelServer, standby: ModelServer, own: Own, log?: (line: string) => void): Promise<HaproxyServer> {
  const haproxy = await startHaproxy({ backends: { [BACKEND]: { servers: { primary: primary.hostPort, standby: standby.hostPort } } }, log });
  own(
    'HAProxy',
    () => haproxy.stop(),
    () => haproxy.pid,
  );
  // Before the outage the entry serves from its own region only.
  const location = parseLocation(haproxy.statsSocket.tcp);
  await command(location, `set server ${BACKEND}/primary weight 100`);
  await command(location, `set server ${BACKEND}/standby weight 0`);
  return haproxy;
}

async function startCluster(own: Own, log?: (line: string) => void): Promise<KubernetesCluster> {
  const cluster = await startKubernetes({ log });
  own('Kubernetes control plane', () => cluster.stop());
  // Killed by pid if this process dies before stopping them (the entries above stop nothing themselves).
  for (const [name, pid] of Object.entries(cluster.pids()))
    own(
      `Kubernetes ${name}`,
      async () => {},
      () => pid,
    );
  await seedInference(cluster);
  return cluster;
}

async function errorRatios(prometheus: PrometheusServer): Promise<Record<string, string>> {
  const answer = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query: 'inference_error_ratio' })}`);
  const body = (await answer.json()) as { data?: { result?: { metric: { site?: string }; value: [number, string] }[] } };
  return Object.fromEntries((body.data?.result ?? []).map((r) => [r.metric.site ?? '', r.value[1]]));
}

/**
 * The outage's end: polls the Deployment (without blocking the stand-ins) until a redeploy
 * newer than the outage has rolled out, then the primary answers again, as a model server
 * whose bad state a restart clears would.
 */
function recoverOnRedeploy(cluster: KubernetesCluster, primary: ModelServer, before: DeploymentFacts, stopped: () => boolean): void {
  const poll = async (): Promise<void> => {
    if (stopped() || primary.healthy()) return;
    const now = await readDeployment(cluster).catch(() => undefined);
    if (now && now.restartedAt !== before.restartedAt && now.rolledOut) return primary.setHealthy(true);
    setTimeout(() => void poll(), 300).unref();
  };
  void poll();
}

async function probe(url: string): Promise<boolean> {
  const response = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return response?.ok === true;
}

function siteOf(parts: Omit<MlSite, 'params' | 'env' | 'failPrimary' | 'scraped' | 'answer' | 'state' | 'stop'>, stop: () => Promise<void>): MlSite {
  const { primary, standby, haproxy, prometheus, cluster, zone } = parts;
  let stopped = false;
  return {
    ...parts,
    params: {
      primary_url: primary.url,
      standby_url: standby.url,
      model: MODEL,
      route53_endpoint: parts.moto.endpoint,
      aws_region: 'us-east-1',
      primary_health_check_id: zone.healthCheckId,
      haproxy_socket: haproxy.statsSocket.tcp,
      haproxy_backend: BACKEND,
      prometheus_url: prometheus.url,
      namespace: NAMESPACE,
      deployment: DEPLOYMENT,
    },
    env: {
      INFERENCE_KUBECONFIG: cluster.adminKubeconfig,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    },
    failPrimary: async () => {
      const before = await readDeployment(cluster);
      primary.setHealthy(false);
      recoverOnRedeploy(cluster, primary, before, () => stopped);
    },
    scraped: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      const want = { primary: primary.healthy() ? '0' : '1', standby: standby.healthy() ? '0' : '1' };
      for (;;) {
        const seen = await errorRatios(prometheus).catch(() => ({}) as Record<string, string>);
        if (seen.primary === want.primary && seen.standby === want.standby) return;
        if (Date.now() > deadline) throw new Error(`Prometheus holds ${JSON.stringify(seen)}, not ${JSON.stringify(want)}, after ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    answer: async () => {
      const check = await zone.healthCheck();
      const healthy = check.disabled || (await probe(`${haproxy.frontends[BACKEND]}/v1/models/${MODEL}`)) !== check.inverted;
      return healthy ? 'primary entry' : 'standby';
    },
    state: async () => {
      const servers = await readServers(parseLocation(haproxy.statsSocket.tcp), BACKEND);
      const { generation, restartedAt } = await readDeployment(cluster);
      return {
        healthCheck: await zone.healthCheck(),
        haproxy: Object.fromEntries([...servers].map(([name, s]) => [name, { state: s.state, weight: s.weight }])),
        deployment: { generation, ...(restartedAt ? { restartedAt } : {}) },
      };
    },
    stop: async () => {
      stopped = true;
      await stop();
    },
  };
}

/** Like Promise.all, but rejects (with the first failure) only once every promise has settled. */
async function settled<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * Starts the site, registering each part with `owner` (when given) as soon as it runs, so
 * Ctrl-C or a failed start stops everything by pid. Kubernetes (the slowest) starts beside
 * moto and Prometheus.
 */
export async function startMlSite(options: { owner?: StackOwner; log?: (line: string) => void } = {}): Promise<MlSite> {
  const stops: Array<() => Promise<void>> = [];
  const own: Own = (name, stop, pid) => {
    stops.push(stop);
    options.owner?.own(name, stop, pid);
  };
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const primary = await startModelServer('primary', PRIMARY_IP);
    own('primary model server', () => primary.close());
    const standby = await startModelServer('standby', STANDBY_IP);
    own('standby model server', () => standby.close());
    const haproxy = await startEntry(primary, standby, own, options.log);
    const entryPort = Number(new URL(haproxy.frontends[BACKEND]!).port);
    // Settled together, so a failure stops the others only once they have started (and are owned).
    const [moto, prometheus, cluster] = await settled([
      startMoto({ log: options.log }).then(
        (m) => (
          own(
            'moto',
            () => m.stop(),
            () => m.pid,
          ),
          m
        ),
      ),
      startPrometheus({ targets: [primary.hostPort, standby.hostPort], log: options.log }).then((p) => (own('Prometheus', () => p.stop(), p.pid), p)),
      startCluster(own, options.log),
    ] as const);
    const zone = await seedFailoverZone(moto.endpoint, { ip: PRIMARY_IP, port: entryPort, path: `/v1/models/${MODEL}` }, STANDBY_IP);
    own('Route 53 client', async () => zone.client.destroy());
    return siteOf({ primary, standby, haproxy, moto, prometheus, cluster, zone }, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}
