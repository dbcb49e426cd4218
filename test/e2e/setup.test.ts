// A real Temporal server started without Rebound's search attributes, as a real cluster starts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTemporal, type TemporalServer } from '../../stack/temporal.ts';
import { rebound, reboundUntil } from '../helpers/cli.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { uniqueSite } from '../helpers/runs.ts';

const dir = mkdtempSync(join(tmpdir(), 'rebound-setup-'));
const runbook = join(dir, 'hello.yaml');
writeFileSync(runbook, 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: hello}\nspec:\n  steps:\n    - {id: hi, uses: log, with: {message: hello}}\n');
let server: TemporalServer;
/** Killed in afterAll too: a test that times out never reaches its own finally (a CI run left one running). */
let started: WorkerProcess | undefined;

beforeAll(async () => {
  server = await startTemporal({ dir: join(dir, 'temporal'), searchAttributes: false });
});
afterAll(async () => {
  await started?.kill();
  await server?.stop();
});

describe('rebound setup on a bare Temporal server', () => {
  it('run and worker say what is missing and which command fixes it; setup registers it once', { timeout: 300_000 }, async () => {
    const env = { TEMPORAL_ADDRESS: server.address };
    const run = await rebound(['run', runbook], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("lacks Rebound's search attributes ReboundRunbook, ReboundMode");
    expect(run.stderr).toContain('rebound setup --namespace default');

    const worker = await rebound(['worker', '--site', uniqueSite('setup')], env);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('rebound setup --namespace default');

    const missingNs = await rebound(['setup', '--namespace', 'no-such-ns'], env);
    expect(missingNs.code).toBe(1);
    expect(missingNs.stderr).toContain('namespace "no-such-ns" does not exist');

    const first = await rebound(['setup'], env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('registered search attribute ReboundRunbook');
    const second = await rebound(['setup'], env);
    expect(second.stdout).toContain('search attribute ReboundRunbook already registered');
    expect(second.stdout).not.toContain('registered search attribute');

    const site = uniqueSite('setup');
    started = await startWorkerProcess({ address: server.address, site, bundle: inject('workflowBundle') });
    try {
      const ok = await rebound(['run', runbook, '--site', site], env);
      expect(ok.stdout).toContain('run succeeded');
      expect(ok.code).toBe(0);
    } finally {
      await started.kill();
      started = undefined;
    }
  });
});

describe('rebound run with no worker', () => {
  it('says after a few seconds that no worker polls the queue, and keeps waiting', async () => {
    const site = uniqueSite('setup');
    const result = await reboundUntil(
      ['run', runbook, '--site', site],
      { TEMPORAL_ADDRESS: inject('temporalAddress'), REBOUND_WORKER_WAIT_MS: '1500' },
      (out) => out.stderr.includes('no worker polls'),
      // The CLI's own start takes seconds on a loaded machine; the warning itself comes after 1.5 s.
      60_000,
    );
    expect(result.matched).toBe(true);
    expect(result.stderr).toContain(`no worker polls task queue rebound-${site}`);
    expect(result.stderr).toContain(`rebound worker --site ${site}`);
    // It was still waiting when we stopped it: no exit on its own.
    expect(result.code).toBeNull();
  });
});
