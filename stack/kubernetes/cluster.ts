// A real Kubernetes control plane on loopback for tests and demos: etcd, apiserver, controllers, kwok nodes, snapshots through CSI sidecars.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../ports.ts';
import { stopProcess } from '../process.ts';
import { ensureKubernetes, type KubernetesTools } from './build.ts';
import { kubeconfig, makeCerts, type ClusterCerts } from './certs.ts';

/** The CSI driver name the StorageClass and VolumeSnapshotClass below use. */
export const CSI_DRIVER = 'hostpath.csi.rebound.test';
export const STORAGE_CLASS = 'rebound-hostpath';
export const SNAPSHOT_CLASS = 'rebound-hostpath-snapclass';
export const NODE_NAME = 'kwok-node-0';

export interface KubernetesCluster {
  server: string;
  /** Admin (system:masters) kubeconfig, credentials embedded: tests and worker environments only. */
  adminKubeconfig: string;
  adminKubeconfigFile: string;
  certs: ClusterCerts;
  /** Where the CSI hostpath driver keeps volumes/<id>/ and snapshots/<id>.tar.gz. */
  csiState: string;
  kubectl(args: string[], input?: string): string;
  /** The kubectl binary built with the cluster (benchmarks time it directly). */
  kubectlPath: string;
  /** A kubeconfig for a bearer token (e.g. a ServiceAccount's). */
  kubeconfigForToken(token: string, user?: string): string;
  pids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
}

async function waitFor(what: string, proc: Proc | undefined, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited ${proc.child.exitCode}: ${readFileSync(proc.log, 'utf8').slice(-3000)}`);
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs / 1000} s${proc ? `: ${readFileSync(proc.log, 'utf8').slice(-3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The default namespace (see boot), the node kwok will play, StorageClass and
 * VolumeSnapshotClass for the CSI driver.
 */
function clusterObjects(): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: default }
---
apiVersion: v1
kind: Node
metadata:
  name: ${NODE_NAME}
  labels: { type: kwok, kubernetes.io/hostname: ${NODE_NAME} }
  annotations: { kwok.x-k8s.io/node: fake }
status:
  allocatable: { cpu: "64", memory: 256Gi, pods: "500" }
  capacity: { cpu: "64", memory: 256Gi, pods: "500" }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: ${STORAGE_CLASS} }
provisioner: ${CSI_DRIVER}
volumeBindingMode: Immediate
reclaimPolicy: Delete
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: { name: ${SNAPSHOT_CLASS} }
driver: ${CSI_DRIVER}
deletionPolicy: Delete
`;
}

/**
 * Starts the control plane (≈ 7 s once built, ≈ 725 MB). Every process is ours and
 * is stopped by its pid in stop(): the controllers first, the apiserver, etcd last.
 */
export async function startKubernetes(options: { log?: (line: string) => void } = {}): Promise<KubernetesCluster> {
  const tools: KubernetesTools = ensureKubernetes(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-k8s-'));
  const procs: Proc[] = [];
  const start = (name: string, args: string[]): Proc => {
    const log = join(dir, `${name}.log`);
    const out = openSync(log, 'a');
    const proc = { name, log, child: spawn(tools.bin(name === 'csi-hostpath' ? 'hostpath' : name), args, { stdio: ['ignore', out, out] }) };
    procs.push(proc);
    return proc;
  };
  const stop = async () => {
    for (const proc of [...procs].reverse()) await stopProcess(proc.child, 'SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return await boot(tools, dir, start, stop, procs);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function boot(tools: KubernetesTools, dir: string, start: (name: string, args: string[]) => Proc, stop: () => Promise<void>, procs: Proc[]) {
  const certs = makeCerts(dir);
  const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
  const etcd = start('etcd', [
    '--name=rebound',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=rebound=http://127.0.0.1:${etcdPeer}`,
    // A test cluster's data dies with it; fsync would only slow every write.
    '--unsafe-no-fsync',
  ]);
  await waitFor('etcd', etcd, async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok);
  const server = `https://127.0.0.1:${apiPort}`;
  const api = start('kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${certs.serving}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.ca}`,
    `--service-account-key-file=${certs.saPublic}`,
    `--service-account-signing-key-file=${certs.saPrivate}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=Node,RBAC',
    // The default reconciler refuses a loopback advertise address.
    '--endpoint-reconciler-type=none',
    '--enable-priority-and-fairness=false',
  ]);
  const admin = kubeconfig(server, certs, { name: 'admin', cert: certs.admin, key: certs.adminKey });
  const adminFile = join(dir, 'admin.kubeconfig');
  writeFileSync(adminFile, admin, { mode: 0o600 });
  const kubectl = (args: string[], input?: string) => {
    const r = spawnSync(tools.bin('kubectl'), ['--kubeconfig', adminFile, ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${(r.stderr || String(r.error ?? '')).trim()}`);
    return r.stdout;
  };
  await waitFor('kube-apiserver', api, () => kubectl(['get', '--raw', '/readyz']).trim() === 'ok');
  const controllers = start('kube-controller-manager', [
    `--kubeconfig=${adminFile}`,
    `--authentication-kubeconfig=${adminFile}`,
    `--authorization-kubeconfig=${adminFile}`,
    // No HTTPS endpoint: nothing here reads its healthz, and a port chosen then bound later can be taken by another test's server.
    '--secure-port=0',
    '--leader-elect=false',
    `--service-account-private-key-file=${certs.saPrivate}`,
    `--root-ca-file=${certs.ca}`,
    `--cluster-signing-cert-file=${certs.ca}`,
    `--cluster-signing-key-file=${certs.caKey}`,
  ]);
  start('kube-scheduler', [
    `--kubeconfig=${adminFile}`,
    `--authentication-kubeconfig=${adminFile}`,
    `--authorization-kubeconfig=${adminFile}`,
    '--secure-port=0',
    '--leader-elect=false',
  ]);
  kubectl(['apply', '--server-side', ...tools.crds.flatMap((f) => ['-f', f])]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  const csiState = join(dir, 'csi-state');
  mkdirSync(csiState, { recursive: true });
  const socket = join(dir, 'csi.sock');
  const kwok = start('kwok', [
    `--kubeconfig=${adminFile}`,
    `--config=${tools.kwokStages}`,
    '--manage-all-nodes=true',
    '--server-address=',
    '--node-ip=127.0.0.1',
  ]);
  start('snapshot-controller', [`--kubeconfig=${adminFile}`, '--leader-election=false']);
  start('csi-hostpath', [`--endpoint=${socket}`, `--statedir=${csiState}`, `--drivername=${CSI_DRIVER}`]);
  start('csi-provisioner', [`--kubeconfig=${adminFile}`, `--csi-address=${socket}`, '--leader-election=false']);
  start('csi-snapshotter', [`--kubeconfig=${adminFile}`, `--csi-address=${socket}`, '--leader-election=false']);
  // The apiserver makes the default namespace once at start and retries only a minute later
  // (its system-namespaces controller): on a loaded machine the first try can fail, and the
  // service account below waits for the namespace. Applying it ourselves is a no-op otherwise.
  kubectl(['apply', '--server-side', '-f', '-'], clusterObjects());
  await waitFor('the kwok node', kwok, () => kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True');
  // The service-account controller makes it once the namespace is there.
  await waitFor(
    'the default service account',
    controllers,
    () => kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name']).trim() !== '',
    180_000,
  );
  return {
    server,
    adminKubeconfig: admin,
    adminKubeconfigFile: adminFile,
    certs,
    csiState,
    kubectl,
    kubectlPath: tools.bin('kubectl'),
    kubeconfigForToken: (token: string, user = 'token-user') => kubeconfig(server, certs, { name: user, token }),
    pids: () => Object.fromEntries(procs.map((p) => [p.name, p.child.pid])),
    stop,
  } satisfies KubernetesCluster;
}
