// deploy/: the systemd units pass `systemd-analyze verify` and the Kubernetes manifests a real apiserver's dry run, and both name only options the CLI has.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { rebound } from '../helpers/cli.ts';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const UNITS = { 'rebound-worker@.service': 'rebound-worker@dr.service', 'rebound-serve.service': 'rebound-serve.service' };
const MANIFESTS = ['namespace.yaml', 'worker.yaml', 'serve.yaml'];

const scratch = mkdtempSync(join(tmpdir(), 'rebound-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `systemd-analyze verify` of a unit file under the name systemd would load it as (a template needs an instance). */
function verify(name: string, text: string): { status: number | null; output: string } {
  const path = join(scratch, name);
  writeFileSync(path, text);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

const unitText = (file: string) => readFileSync(join(DEPLOY, 'systemd', file), 'utf8');

/** The `--options` an ExecStart= line passes to `rebound <verb>`. */
function execStartOptions(text: string): { verb: string; options: string[] } {
  const line = text.split('\n').find((l) => l.startsWith('ExecStart='))!;
  const [, verb] = /\brebound (\w+)/.exec(line)!;
  return { verb: verb!, options: line.match(/--[a-z-]+/g) ?? [] };
}

async function expectCliHas(verb: string, options: string[]): Promise<void> {
  const help = await rebound([verb, '--help']);
  expect(help.code).toBe(0);
  for (const option of options) expect(help.stdout, `rebound ${verb} ${option}`).toContain(`${option} `);
}

describe('systemd units', () => {
  for (const [file, loadAs] of Object.entries(UNITS)) {
    it(`${file} passes systemd-analyze verify with nothing to say`, () => {
      // verify warns about an unknown or unparsable line but still exits 0: silence is the pass.
      expect(verify(loadAs, unitText(file))).toEqual({ status: 0, output: '' });
    });

    it(`${file} starts rebound with options rebound has`, async () => {
      const { verb, options } = execStartOptions(unitText(file));
      expect(options.length).toBeGreaterThan(0);
      await expectCliHas(verb, options);
    });
  }

  it('a typo in a directive is reported (so the silence above means something)', () => {
    const broken = unitText('rebound-serve.service').replace(/^NoNewPrivileges=/m, 'NoNewPrivilege=');
    expect(verify('typo.service', broken).output).toContain("Unknown key 'NoNewPrivilege' in section [Service]");
  });

  it('a bad value is reported, and an ExecStart binary that does not exist fails verify', () => {
    const badValue = unitText('rebound-serve.service').replace(/^Restart=on-failure$/m, 'Restart=sometimes');
    expect(verify('value.service', badValue).output).toContain('Failed to parse service restart specifier');
    const missing = unitText('rebound-worker@.service').replace(/^ExecStart=\/usr\/bin\/env /m, `ExecStart=${join(scratch, 'no-such-dir')}/`);
    const r = verify('missing@dr.service', missing);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('is not executable');
  });
});

describe('Kubernetes manifests on a real control plane', () => {
  let cluster: KubernetesCluster;

  beforeAll(async () => {
    cluster = await startKubernetes({ log: (line) => console.log(`[k8s] ${line}`) });
    // The dry runs below need the namespace to exist: it is the one manifest applied for real.
    expect(apply(join(DEPLOY, 'kubernetes/namespace.yaml'), false)).toMatchObject({ status: 0, stderr: '' });
  }, 1_800_000); // the first run builds the control plane from the Go module proxy (≈ 10 min)

  afterAll(async () => {
    await cluster?.stop();
  });

  /** kubectl apply --server-side (a dry run unless `dryRun` is false), its exit status and both streams. */
  function apply(file: string, dryRun = true): { status: number | null; stdout: string; stderr: string } {
    const args = ['--kubeconfig', cluster.adminKubeconfigFile, 'apply', '--server-side', ...(dryRun ? ['--dry-run=server'] : []), '-f', file];
    const r = spawnSync(cluster.kubectlPath, args, { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
  }

  function variant(file: string, edit: (text: string) => string): string {
    const path = join(scratch, `edited-${file}`);
    writeFileSync(path, edit(readFileSync(join(DEPLOY, 'kubernetes', file), 'utf8')));
    return path;
  }

  for (const file of MANIFESTS) {
    it(`${file}: the apiserver accepts every object (strict field validation, restricted Pod Security, no warning)`, () => {
      const r = apply(join(DEPLOY, 'kubernetes', file));
      expect(r).toMatchObject({ status: 0, stderr: '' });
      const kinds = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', file), 'utf8')).map((d) => d.get('kind') as string);
      expect(r.stdout.trim().split('\n')).toHaveLength(kinds.length);
      for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
    });

    if (file === 'namespace.yaml') continue; // no containers
    it(`${file}: its containers run rebound with options rebound has`, async () => {
      for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', file), 'utf8'))) {
        const containers = (doc.toJS() as { spec?: { template?: { spec: { containers: { args?: string[] }[] } } } }).spec?.template?.spec.containers;
        for (const { args } of containers ?? []) {
          const [verb, ...rest] = args!;
          await expectCliHas(
            verb!,
            rest.filter((a) => a.startsWith('--')),
          );
        }
      }
    });
  }

  it('the dry runs created nothing', () => {
    const r = spawnSync(cluster.kubectlPath, ['--kubeconfig', cluster.adminKubeconfigFile, 'get', 'deployments,services', '-n', 'rebound', '-o', 'name'], {
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).toBe('');
  });

  it('a manifest with a misspelt field is refused', () => {
    const path = variant('worker.yaml', (t) => t.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:'));
    const r = apply(path);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('.spec.template.spec.terminationGracePeriodSecond: field not declared in schema');
  });

  it("a pod that may escalate privileges is flagged by the namespace's restricted policy", () => {
    const path = variant('serve.yaml', (t) => t.replace(/allowPrivilegeEscalation: false/g, 'allowPrivilegeEscalation: true'));
    const r = apply(path);
    expect(r.stderr).toContain('would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false');
  });
});
