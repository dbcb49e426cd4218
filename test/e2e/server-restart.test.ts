import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import { startTemporal, type TemporalServer } from '../../stack/temporal.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';

let server: TemporalServer | undefined;
let worker: WorkerProcess | undefined;
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await server?.stop();
});

describe('Temporal server restart', () => {
  it('a run survives its Temporal dev server (SQLite) being stopped and started again', async () => {
    // Its own server: restarting the shared one would disturb the other test files.
    server = await startTemporal({ dir: join(inject('dataDir'), `restart-${process.pid}`) });
    const http = await startHttpServer();
    const site = uniqueSite('restart');
    worker = await startWorkerProcess({ address: server.address, site, bundle: inject('workflowBundle') });
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: restart}\nspec:
  steps:
    - {id: before, uses: http.check, with: {url: "${http.url('/before')}"}}
    - {id: wait, uses: sleep, with: {duration: 6s}}
    - {id: after, uses: http.check, retry: {max_attempts: 20, initial_interval: 500ms, backoff: 1}, with: {url: "${http.url('/after')}"}}
`);
    const handle = await start(await connect(server.address), plan, site);
    await waitFor(handle, (s) => stepOf(s, 'wait').status === 'running');

    await server.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await server.restart();

    const status = await finalStatus((await connect(server.address)).workflow.getHandle(handle.workflowId));
    expect(status.state).toBe('succeeded');
    expect(http.count('/before')).toBe(1);
    expect(http.count('/after')).toBe(1);
    await http.close();
  });
});
