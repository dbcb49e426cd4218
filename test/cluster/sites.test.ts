// Sites that survive, on the real cluster: the primary's worker SIGKILLed before a failover, a DR worker killed mid-run; DR steps complete, primary steps fail fast, the report says which site did what.
import { hostname } from 'node:os';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import { rebound } from '../helpers/cli.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const address = inject('temporalAddress');
const bundle = inject('workflowBundle');
const workers: WorkerProcess[] = [];
const worker = async (site: string) => {
  const started = await startWorkerProcess({ address, site, bundle });
  workers.push(started);
  return started;
};

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
});

describe('a failover while the primary site is lost', () => {
  it('runs the DR steps through a DR worker crash, fails the primary steps fast, and reports per site', { timeout: 360_000 }, async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    const http = await startHttpServer({
      // The first promotion attempt hangs (its worker dies in it); a retry answers at once.
      '/promote': async (_req, res, n) => {
        if (n === 1) await released;
        res.writeHead(200).end('ok');
      },
    });
    const [primary, dr] = [uniqueSite('primary'), uniqueSite('dr')];
    const lostPrimary = await worker(primary);
    const drOne = await worker(dr);
    // The primary site goes away before the failover starts.
    await lostPrimary.kill('SIGKILL');
    const client = await connect(address);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: site-loss}\nspec:
  sites: [${primary}, ${dr}]
  site: ${dr}
  steps:
    - {id: fence-primary, uses: log, site: ${primary}, site_timeout: 3s, continue_on_error: true, with: {message: "stop writes on the primary"}}
    - {id: promote, uses: http.check, heartbeat_timeout: 8s, retry: {max_attempts: 5, initial_interval: 100ms}, with: {url: "${http.url('/promote')}", timeout: 1m}}
    - {id: announce, uses: log, with: {message: "DR serves"}}
    - {id: tell-primary, uses: log, site: ${primary}, site_timeout: 3s, continue_on_error: true, with: {message: "you are fenced"}}
`);
    // The run's own queue is the DR site's: its workflow survives the primary's loss too.
    const handle = await start(client, plan, dr);
    await waitFor(handle, (s) => stepOf(s, 'promote').status === 'running' && http.count('/promote') === 1);
    // A second DR worker comes up, and the one holding the promotion dies.
    const drTwo = await worker(dr);
    await drOne.kill('SIGKILL');
    const status = await finalStatus(handle);
    release();
    await http.close();

    expect(status.state).toBe('succeeded');
    const noWorker = new RegExp(`^no worker for site ${primary}: nothing polled task queue rebound-${primary} within 3s`);
    expect(stepOf(status, 'fence-primary')).toMatchObject({ status: 'failed' });
    expect(stepOf(status, 'fence-primary').reason).toMatch(noWorker);
    expect(stepOf(status, 'tell-primary').reason).toMatch(noWorker);
    expect(stepOf(status, 'promote')).toMatchObject({ status: 'succeeded', worker: `${drTwo.child.pid}@${hostname()}`, task_queue: `rebound-${dr}` });
    expect(stepOf(status, 'promote').attempt).toBeGreaterThanOrEqual(2);
    expect(stepOf(status, 'announce')).toMatchObject({ status: 'succeeded', worker: `${drTwo.child.pid}@${hostname()}` });

    const report = JSON.parse((await rebound(['report', handle.workflowId, '--format', 'json'])).stdout) as {
      sites: Array<{ site: string; succeeded: string[]; failed: string[]; workers: string[] }>;
    };
    expect(report.sites).toEqual([
      expect.objectContaining({
        site: primary,
        succeeded: [],
        failed: [expect.stringMatching(/^fence-primary: no worker for site/), expect.stringMatching(/^tell-primary: no worker/)],
      }),
      expect.objectContaining({ site: dr, succeeded: ['promote', 'announce'], failed: [], workers: [`${drTwo.child.pid}@${hostname()}`] }),
    ]);
    const md = (await rebound(['report', handle.workflowId])).stdout;
    expect(md).toContain('## Sites');
  });
});
