// The package `npm pack` makes, installed without the repository or its dev dependencies: its compiled `rebound` validates, and its worker (the bundle built at pack time) runs a signed run on the mTLS cluster.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reap } from '../helpers/reaper.ts';
import { uniqueSite } from '../helpers/runs.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rebound-pack-'));
const app = join(work, 'app');
const bin = join(app, 'node_modules', '.bin', 'rebound');
let files: string[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, its output kept (and shown when an expectation fails). */
function exec(command: string, args: string[], options: SpawnOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = reap(spawn(command, args, { env: process.env, ...options, stdio: ['ignore', 'pipe', 'pipe'] }));
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d) => (out.stdout += d));
    child.stderr!.on('data', (d) => (out.stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, ...out }));
  });
}

const text = (r: Result) => `exit ${r.code}\n${r.stdout}${r.stderr}`;

/** The installed package's environment: the test run's (its signing keys, a cluster run's TEMPORAL_TLS_*), this server, and no bundle named, so the worker takes the packed one. */
function env(): NodeJS.ProcessEnv {
  const { REBOUND_WORKFLOW_BUNDLE: _bundle, ...rest } = process.env;
  return { ...rest, TEMPORAL_ADDRESS: inject('temporalAddress') };
}

beforeAll(async () => {
  // prepack builds dist/ (tsc, the workflow bundle, the assets) before npm packs it.
  const packed = await exec('npm', ['pack', '--pack-destination', work], { cwd: ROOT });
  expect(packed.code, text(packed)).toBe(0);
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );
  const listed = await exec('tar', ['-tzf', tarball]);
  expect(listed.code, text(listed)).toBe(0);
  files = listed.stdout.trim().split('\n');
  // An empty folder far from the repository: what an operator installing the tarball has.
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'rebound-pack-check', private: true })}\n`);
  const installed = await exec('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: app });
  expect(installed.code, text(installed)).toBe(0);
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds compiled JavaScript and the workflow bundle, no TypeScript sources', () => {
    expect(files).toContain('package/bin/rebound.mjs');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/workflow-bundle.js');
    // Read at run time: the console's static files, the catalog's migrations, the runbooks and their schema.
    expect(files).toContain('package/dist/console/static/console.css');
    expect(files).toContain('package/dist/activities/restore-points/migrations/001_restore_points.sql');
    expect(files).toContain('package/runbooks/runbook.schema.json');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /\.test\.|^package\/(test|bench|scripts)\//.test(f))).toEqual([]);
  });

  it('installs without dev dependencies: no tsx', () => {
    expect(existsSync(join(app, 'node_modules', 'rebound', 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
  });
});

describe('the installed rebound', () => {
  it('validate: exit 0 for a good runbook, nonzero with FILE:LINE:COL for a broken one', async () => {
    const good = await exec(bin, ['validate', join(app, 'node_modules', 'rebound', 'runbooks', 'dr-failover.yaml')], { cwd: app, env: env() });
    expect(good.code, text(good)).toBe(0);
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: broken}\nspec:\n  steps:\n    - {id: a, uses: http.chek}\n');
    const bad = await exec(bin, ['validate', broken], { cwd: app, env: env() });
    expect(bad.code, text(bad)).not.toBe(0);
    expect(bad.stderr).toMatch(/broken\.yaml:\d+:\d+: step "a": unknown action "http\.chek"/);
  });

  describe('worker and run on a real server', () => {
    const site = uniqueSite('pack');
    let worker: ChildProcess | undefined;
    let output = '';

    beforeAll(async () => {
      worker = reap(spawn(bin, ['worker', '--site', site], { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }));
      worker.stdout!.on('data', (d) => (output += d));
      worker.stderr!.on('data', (d) => (output += d));
      await new Promise<void>((resolve, reject) => {
        const early = (code: number | null) => reject(new Error(`worker exited with ${code}:\n${output}`));
        worker!.once('exit', early);
        worker!.stdout!.on('data', () => {
          if (!output.includes('polling task queue')) return;
          worker!.off('exit', early);
          resolve();
        });
      });
    }, 180_000);

    afterAll(async () => {
      if (!worker || worker.exitCode !== null || worker.signalCode) return;
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    });

    it('the worker takes the bundle built at pack time (no webpack at start)', () => {
      expect(output).toContain(`polling task queue rebound-${site}`);
      // What the SDK logs when it bundles the workflows itself.
      expect(output).not.toContain('Workflow bundle created');
    });

    it('run: a signed run of a log step and a sleep succeeds', { timeout: 180_000 }, async () => {
      const file = join(work, 'small.yaml');
      writeFileSync(
        file,
        'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: pack-check}\nspec:\n  steps:\n' +
          '    - {id: hello, uses: log, with: {message: packed}}\n    - {id: pause, uses: sleep, with: {duration: 1s}}\n',
      );
      const run = await exec(bin, ['run', file, '--site', site, '--json'], { cwd: app, env: env() });
      expect(run.code, `${text(run)}\nworker:\n${output}`).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        state: 'succeeded',
        steps: [
          { id: 'hello', status: 'succeeded', outputs: { message: 'packed' } },
          { id: 'pause', status: 'succeeded' },
        ],
      });
    });
  });
});
