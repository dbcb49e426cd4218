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
  it('a worker SIGKILLed mid-step is replaced and the run finishes without re-running finished steps', async () => {
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
    const first = await startWorkerProcess({ address, site, bundle });
    workers.push(first);
    const client = await connect(address);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: crash}\nspec:
  steps:
    - {id: one, uses: http.check, with: {url: "${http.url('/one')}"}}
    - {id: two, uses: http.check, heartbeat_timeout: 2s, retry: {initial_interval: 100ms}, with: {url: "${http.url('/hold')}", timeout: 1m}}
    - {id: three, uses: http.check, with: {url: "${http.url('/three')}"}}
`);
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => stepOf(s, 'two').status === 'running' && http.count('/hold') === 1);

    await first.kill('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    const second = await startWorkerProcess({ address, site, bundle });
    workers.push(second);

    const status = await finalStatus(handle);
    release();
    expect(status.state).toBe('succeeded');
    expect(http.count('/one')).toBe(1);
    expect(http.count('/hold')).toBe(2);
    expect(http.count('/three')).toBe(1);
    expect(stepOf(status, 'two').attempt).toBe(2);
    writeFileSync(join(inject('dataDir'), 'crash-worker-2.log'), second.output());
    await http.close();
  });
});
