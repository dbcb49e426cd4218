// for_each runs on a real Temporal server and worker process: in order, in parallel within its limit (held requests prove it), groups, outputs read by index, a failed iteration cancelling the rest.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { loadRunRecord } from '../../client/record.ts';
import { finalStatus } from '../../client/runs.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';

const head = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: loops}\nspec:\n';
const site = uniqueSite('for-each');
let worker: WorkerProcess;
let client: Client;
let http: Awaited<ReturnType<typeof startHttpServer>>;
/** Requests to /hold, answered only when the test says: while held, their iterations are surely running. */
const held: ServerResponse[] = [];
let inFlight = 0;
let mostInFlight = 0;

beforeAll(async () => {
  http = await startHttpServer({
    '/hold': (_req, res) => {
      held.push(res);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      res.on('close', () => inFlight--);
    },
    '/down': (_req, res) => void res.writeHead(500).end('boom'),
  });
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  await http?.close();
});

/** Polls (never sleeps a fixed time racing the server) until the condition holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const release = (n: number) => held.splice(0, n).forEach((res) => res.writeHead(200).end('ok'));

describe('for_each on a real Temporal server and worker process', () => {
  it('runs one iteration per item in order, item and index in with: and name:, and later steps read steps.x[i]', async () => {
    const plan = planOf(`${head}  steps:
    - id: shift
      name: "shift \${{ item }}"
      for_each: [eu, us, ap]
      with: {message: "\${{ index }}:\${{ item }}"}
      uses: log
    - {id: after, uses: log, with: {message: "\${{ steps.shift[1].outputs.message }} \${{ steps.shift.map(s, s.item) }} \${{ steps.shift.all(s, s.outcome == 'success') }}"}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    expect(status.steps.map((s) => [s.id, s.uses, s.status, s.name])).toEqual([
      ['shift', 'log', 'succeeded', undefined],
      ['shift[0]', 'log', 'succeeded', 'shift eu'],
      ['shift[1]', 'log', 'succeeded', 'shift us'],
      ['shift[2]', 'log', 'succeeded', 'shift ap'],
      ['after', 'log', 'succeeded', undefined],
    ]);
    expect(stepOf(status, 'shift')).toMatchObject({ iterations: 3, outputs: { items: ['eu', 'us', 'ap'] } });
    expect(stepOf(status, 'shift[2]').outputs?.message).toBe('2:ap');
    // In order: each iteration started once the one before had ended.
    for (const i of [1, 2]) {
      expect(Date.parse(stepOf(status, `shift[${i}]`).started_at!)).toBeGreaterThanOrEqual(Date.parse(stepOf(status, `shift[${i - 1}]`).ended_at!));
    }
    expect(stepOf(status, 'after').outputs?.message).toBe('1:us ["eu","us","ap"] true');
  });

  it('runs at most `parallel` iterations at once: two requests held, the third iteration waits until one is answered', async () => {
    const plan = planOf(`${head}  steps:
    - {id: fan, uses: http.check, for_each: [a, b, c], parallel: 2, retry: {max_attempts: 1}, timeout: 2m, with: {url: "${http.url('/hold')}?\${{ item }}", timeout: 2m}}
`);
    const handle = await start(client, plan, site);
    // Both of the first two are in flight at once: they run in parallel.
    await until(() => inFlight === 2, 'two held requests');
    // The run's state after the task that started them: the third is still waiting for a free slot.
    const during = await waitFor(handle, (s) => s.steps.filter((x) => x.status === 'running').length === 3);
    expect(during.steps.map((s) => [s.id, s.status])).toEqual([
      ['fan', 'running'],
      ['fan[0]', 'running'],
      ['fan[1]', 'running'],
      ['fan[2]', 'pending'],
    ]);
    release(1);
    await until(() => held.length === 2 && http.count('/hold') === 3, 'the third request');
    release(2);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(mostInFlight).toBe(2);
    // Each iteration's activity was given its own id: the history (and a failback) tells them apart.
    expect(Object.keys((await loadRunRecord(client, handle.workflowId)).inputs).sort()).toEqual(['fan[0]', 'fan[1]', 'fan[2]']);
    expect(status.steps.filter((s) => s.id.startsWith('fan[')).every((s) => s.status === 'succeeded')).toBe(true);
  });

  it("a group runs its steps once per item of an earlier step's output, each reading its siblings, item and index", async () => {
    const plan = planOf(`${head}  steps:
    - {id: discover, uses: log, with: {message: "eu,us"}}
    - id: region
      for_each: \${{ steps.discover.outputs.message.split(',') }}
      parallel: 2
      steps:
        - {id: drain, uses: log, with: {message: "drain \${{ item }}"}}
        - {id: check, uses: log, with: {message: "\${{ steps.drain.outputs.message }} #\${{ index }}"}}
    - {id: report, uses: log, with: {message: "\${{ steps.region[1].steps.check.outputs.message }}"}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    expect(status.steps.map((s) => [s.id, s.uses, s.status])).toEqual([
      ['discover', 'log', 'succeeded'],
      ['region', 'group', 'succeeded'],
      ['region[0]', 'group', 'succeeded'],
      ['region[0].drain', 'log', 'succeeded'],
      ['region[0].check', 'log', 'succeeded'],
      ['region[1]', 'group', 'succeeded'],
      ['region[1].drain', 'log', 'succeeded'],
      ['region[1].check', 'log', 'succeeded'],
      ['report', 'log', 'succeeded'],
    ]);
    expect(stepOf(status, 'region[0].check').outputs?.message).toBe('drain eu #0');
    expect(stepOf(status, 'report').outputs?.message).toBe('drain us #1');
  });

  it('a failed iteration fails the step, cancels the one running beside it and starts no more; on_failure reads which', async () => {
    const plan = planOf(`${head}  steps:
    - id: probe
      for_each: ["/hold", "/down", "/hold"]
      parallel: 2
      uses: http.check
      retry: {max_attempts: 1}
      with: {url: "${http.url('')}\${{ item }}", timeout: 2m}
  on_failure:
    - {id: which, uses: log, with: {message: "failed: \${{ steps.probe.filter(s, s.outcome == 'failure').map(s, s.index) }}"}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('failed');
    expect(status.steps.map((s) => [s.id, s.status])).toEqual([
      ['probe', 'failed'],
      ['probe[0]', 'cancelled'],
      ['probe[1]', 'failed'],
      ['probe[2]', 'skipped'],
      ['which', 'succeeded'],
    ]);
    expect(stepOf(status, 'probe').reason).toMatch(/^probe\[1\]: /);
    expect(stepOf(status, 'probe[2]').reason).toBe('not started: iteration probe[1] failed');
    expect(stepOf(status, 'which').outputs?.message).toBe('failed: [1]');
    expect(status.error).toMatch(/^step "probe" \(http.check\) failed: probe\[1\]: /);
  });

  it('an items expression that gives no list fails the step, located in its reason', async () => {
    const plan = planOf(`${head}  steps:\n    - {id: bad, uses: log, for_each: "\${{ 'eu' }}", with: {message: x}}\n`);
    const status = await runToEnd(client, plan, site);
    expect(stepOf(status, 'bad')).toMatchObject({ status: 'failed', reason: 'for_each: "${{ \'eu\' }}" gave "eu", not a list' });
  });

  it('a list longer than a for_each may run fails the step before any iteration starts', async () => {
    const plan = planOf(
      `${head}  parameters: {hosts: {type: string}}\n  steps:\n    - {id: many, uses: log, for_each: "\${{ params.hosts.split(',') }}", with: {message: "\${{ item }}"}}\n`,
    );
    const status = await runToEnd(client, plan, site, { hosts: Array.from({ length: 501 }, (_, i) => `h${i}`).join(',') });
    expect(stepOf(status, 'many')).toMatchObject({ status: 'failed', reason: 'for_each: 501 items; a for_each runs at most 500' });
    expect(status.steps.filter((s) => s.id.startsWith('many['))).toEqual([]);
  });
});
