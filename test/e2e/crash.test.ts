// Crash-resume: a worker process SIGKILLed mid-step is replaced, and the run finishes without redoing finished steps.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';

const workers: WorkerProcess[] = [];
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
});

describe('crash-resume', () => {
  it('a worker SIGKILLed mid-step is replaced and the run finishes without re-running finished steps', { timeout: 360_000 }, async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    const http = await startHttpServer({
      // Holds the first request (the worker dies while waiting); answers later ones at once.
      '/hold': async (_req, res, n) => {
        if (n === 1) await released.catch(() => undefined);
        res.writeHead(200).end('ok');
      },
    });
    const site = uniqueSite('crash');
    const address = inject('temporalAddress');
    const bundle = inject('workflowBundle');
    // Worker processes can take a minute to start on a busy machine.
    const first = await startWorkerProcess({ address, site, bundle, startTimeoutMs: 120_000 });
    workers.push(first);
    const client = await connect(address);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: crash}\nspec:
  steps:
    - {id: one, uses: http.check, with: {url: "${http.url('/one')}"}}
    - {id: two, uses: http.check, heartbeat_timeout: 8s, retry: {max_attempts: 5, initial_interval: 100ms}, with: {url: "${http.url('/hold')}", timeout: 1m}}
    - {id: three, uses: http.check, with: {url: "${http.url('/three')}"}}
`);
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => stepOf(s, 'two').status === 'running' && http.count('/hold') === 1);

    await first.kill('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    const second = await startWorkerProcess({ address, site, bundle, startTimeoutMs: 120_000 });
    workers.push(second);

    const status = await finalStatus(handle);
    release();
    expect(status.state).toBe('succeeded');
    // The steps that had finished, or had not started, at the crash ran exactly once.
    expect(http.count('/one')).toBe(1);
    expect(http.count('/three')).toBe(1);
    // The step the worker died in ran again. The dead worker's attempt is noticed after one
    // heartbeat timeout; under load a heartbeat of the new worker can be late too, which
    // costs one more attempt — so at least 2, and never more requests than attempts.
    const attempt = stepOf(status, 'two').attempt;
    expect(attempt).toBeGreaterThanOrEqual(2);
    expect(http.count('/hold')).toBeGreaterThanOrEqual(2);
    expect(http.count('/hold')).toBeLessThanOrEqual(attempt);
    // One outcome per step: every step succeeded once, none is left running or failed.
    expect(status.steps.map((s) => [s.id, s.status])).toEqual([
      ['one', 'succeeded'],
      ['two', 'succeeded'],
      ['three', 'succeeded'],
    ]);
    writeFileSync(join(inject('dataDir'), 'crash-worker-2.log'), second.output());
    await http.close();
  });
});

describe('a worker stopped with SIGTERM', () => {
  it('lets the running step finish within --drain (default 30 s) before it exits, so the step is not run twice', { timeout: 240_000 }, async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    const http = await startHttpServer({
      '/slow': async (_req, res) => {
        await released;
        res.writeHead(200).end('ok');
      },
    });
    const site = uniqueSite('drain');
    const address = inject('temporalAddress');
    const bundle = inject('workflowBundle');
    const first = await startWorkerProcess({ address, site, bundle });
    workers.push(first);
    const client = await connect(address);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: drain}\nspec:
  steps:
    - {id: slow, uses: http.check, retry: {max_attempts: 3, initial_interval: 100ms}, with: {url: "${http.url('/slow')}", timeout: 1m}}
    - {id: after, uses: log, with: {message: after}}
`);
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => stepOf(s, 'slow').status === 'running' && http.count('/slow') === 1);
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGTERM');
    // The worker has stopped polling but still holds the step; let it end now.
    await new Promise((r) => setTimeout(r, 500));
    release();
    await exited;
    expect(first.child.exitCode).toBe(0);
    expect(first.output()).toContain('rebound worker: stopped');
    const second = await startWorkerProcess({ address, site, bundle });
    workers.push(second);
    const status = await finalStatus(handle);
    await http.close();
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'slow')).toMatchObject({ status: 'succeeded', attempt: 1, worker: expect.stringMatching(new RegExp(`^${first.child.pid}@`)) });
    expect(http.count('/slow')).toBe(1);
  });
});
