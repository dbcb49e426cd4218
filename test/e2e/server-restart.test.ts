// A run survives its Temporal server being stopped and started again mid-run (own server, SQLite file kept).
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import { voteAs } from '../helpers/approvals.ts';
import { startTemporal, type TemporalServer } from '../../stack/temporal.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { alive } from '../helpers/processes.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';

let server: TemporalServer | undefined;
let worker: WorkerProcess | undefined;
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await server?.stop();
});

describe('Temporal server restart', () => {
  it('a run survives its Temporal dev server (SQLite) being stopped and started again', { timeout: 300_000 }, async () => {
    // Its own server: restarting the shared one would disturb the other test files.
    server = await startTemporal({ dir: join(inject('dataDir'), `restart-${process.pid}`) });
    const http = await startHttpServer();
    const site = uniqueSite('restart');
    // A worker process can take a minute to start on a busy machine.
    worker = await startWorkerProcess({ address: server.address, site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: restart}\nspec:
  steps:
    - {id: before, uses: http.check, with: {url: "${http.url('/before')}"}}
    - {id: wait, uses: approval, with: {message: "after the outage?", timeout: 10m}}
    - {id: after, uses: http.check, retry: {max_attempts: 20, initial_interval: 500ms, backoff: 1}, with: {url: "${http.url('/after')}"}}
`);
    const handle = await start(await connect(server.address), plan, site);
    await waitFor(handle, (s) => stepOf(s, 'wait').status === 'running');

    const pidBefore = server.pid;
    const stopping = Date.now();
    await server.stop();
    // From here until the restart nothing answers: any time the server records later is after the outage began.
    const down = Date.now();
    expect(alive(pidBefore)).toBe(false);
    await server.restart();
    const pidAfter = server.pid;

    // The run waits at an approval until the restarted server delivers one: it spans the outage by construction, not by a timer's length.
    const restarted = await connect(server.address);
    const after = restarted.workflow.getHandle(handle.workflowId);
    await waitFor(after, (s) => stepOf(s, 'wait').status === 'running', 120_000);
    await voteAs(restarted, handle.workflowId, 'wait', 'restart-test');
    const status = await finalStatus(after);
    expect(status.state).toBe('succeeded');
    expect(http.count('/before')).toBe(1);
    expect(http.count('/after')).toBe(1);
    expect(stepOf(status, 'wait').outputs).toMatchObject({ decision: 'approved', by: 'restart-test' });
    // The outage overlapped the run: another server process, the run open on both sides of it.
    expect(pidAfter).toBeGreaterThan(0);
    expect(pidAfter).not.toBe(pidBefore);
    expect(Date.parse(status.started_at)).toBeLessThan(stopping);
    expect(Date.parse(stepOf(status, 'wait').started_at!)).toBeLessThan(stopping);
    expect(Date.parse(stepOf(status, 'after').started_at!)).toBeGreaterThan(down);
    expect(Date.parse(status.ended_at!)).toBeGreaterThan(down);
    await http.close();
  });
});
