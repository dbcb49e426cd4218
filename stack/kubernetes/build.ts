// Builds the test Kubernetes control plane's binaries from the Go module proxy, once, into a git-ignored folder keyed by their pins.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnce, ROOT, TOOLS } from '../tools.ts';

export const KUBERNETES_VERSION = 'v1.37.2';
const SOURCE = join(ROOT, 'stack', 'kubernetes');

/** Each Go module under stack/kubernetes/ pins its commands; they cannot share one module (their k8s.io replaces differ). */
const MODULES: { dir: string; packages: string[]; ldflags?: string; output?: string }[] = [
  {
    dir: 'control-plane',
    packages: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'].map((c) => `k8s.io/kubernetes/cmd/${c}`),
    // Without these the binaries report v0.0.0-master, which clients print in warnings.
    ldflags: `-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37`,
  },
  // Its main package is the module root, which go build would name `server`.
  { dir: 'etcd', packages: ['go.etcd.io/etcd/server/v3'], output: 'etcd' },
  { dir: 'kwok', packages: ['sigs.k8s.io/kwok/cmd/kwok'] },
  {
    dir: 'snapshotter',
    packages: [
      'github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller',
      'github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter',
      './hostpath',
    ],
  },
  { dir: 'provisioner', packages: ['github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner'] },
];

export interface KubernetesTools {
  bin: (name: string) => string;
  /** kwok's stage definitions (node ready, pod lifecycle), concatenated as its -c config. */
  kwokStages: string;
  /** The VolumeSnapshot and group-snapshot CRDs of external-snapshotter's client module. */
  crds: string[];
}

/** A short digest of every pinned file, so changing a pin builds a new folder instead of reusing a stale one. */
function pinsDigest(): string {
  const hash = createHash('sha256');
  for (const module of MODULES) {
    for (const file of ['go.mod', 'go.sum', 'hostpath/main.go']) {
      const path = join(SOURCE, module.dir, file);
      if (existsSync(path)) hash.update(`${module.dir}/${file}\n`).update(readFileSync(path));
    }
  }
  return hash.digest('hex').slice(0, 10);
}

function go(args: string[], cwd: string): string {
  const result = spawnSync('go', args, { cwd, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' }, maxBuffer: 64 << 20 });
  if (result.status !== 0)
    throw new Error(`go ${args.join(' ')} (in ${cwd}) exited ${result.status}: ${(result.stderr || String(result.error ?? '')).slice(-3000)}`);
  return result.stdout;
}

function moduleDir(cwd: string, module: string): string {
  return (JSON.parse(go(['list', '-m', '-json', module], cwd)) as { Dir: string }).Dir;
}

/** kwok ships its stages as kustomize folders; its -c flag takes them as one multi-document file. */
function writeKwokStages(target: string): void {
  const stages = join(moduleDir(join(SOURCE, 'kwok'), 'sigs.k8s.io/kwok'), 'kustomize', 'stage');
  const parts = ['node/fast', 'node/heartbeat', 'pod/general'].flatMap((folder) =>
    readdirSync(join(stages, folder))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .sort()
      .map((f) => readFileSync(join(stages, folder, f), 'utf8').trim()),
  );
  writeFileSync(target, parts.join('\n---\n') + '\n');
}

function copyCrds(target: string): void {
  const dir = join(moduleDir(join(SOURCE, 'snapshotter'), 'github.com/kubernetes-csi/external-snapshotter/client/v8'), 'config', 'crd');
  mkdirSync(target, { recursive: true });
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) copyFileSync(join(dir, f), join(target, f));
}

function toolsIn(dir: string): KubernetesTools {
  const crdDir = join(dir, 'crd');
  return {
    bin: (name) => join(dir, 'bin', name),
    kwokStages: join(dir, 'kwok-stages.yaml'),
    crds: existsSync(crdDir) ? readdirSync(crdDir).map((f) => join(crdDir, f)) : [],
  };
}

/**
 * The binaries, built on first use (about 10 minutes of two cores with a cold Go cache,
 * 2.7 GB of RAM for kube-apiserver). Built into a partial folder and renamed, so an
 * interrupted build never leaves a half-filled one.
 */
export function ensureKubernetes(log: (line: string) => void = () => {}): KubernetesTools {
  const dir = process.env.REBOUND_KUBERNETES_DIR ?? join(TOOLS, `kubernetes-${KUBERNETES_VERSION}-${pinsDigest()}`);
  buildOnce(dir, (partial) => {
    for (const module of MODULES) {
      const started = Date.now();
      const names = module.output ? [module.output] : module.packages.map((p) => p.split('/').pop());
      log(`building ${names.join(', ')} (stack/kubernetes/${module.dir}) — first run only`);
      const args = ['build', '-o', module.output ? join(partial, 'bin', module.output) : join(partial, 'bin') + '/'];
      if (module.ldflags) args.push('-ldflags', module.ldflags);
      go([...args, ...module.packages], join(SOURCE, module.dir));
      log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    writeKwokStages(join(partial, 'kwok-stages.yaml'));
    copyCrds(join(partial, 'crd'));
  });
  return toolsIn(dir);
}
