// What docs/runbooks.md (once the README) promises about step semantics, each sentence found in the page and checked on the real server and worker process: continue_on_error, finally, drill: skip, retry defaults, non_retryable.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { voteAs } from '../helpers/approvals.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { finalStatus } from '../../client/runs.ts';
import { hashPlan } from '../../compiler/index.ts';

const head = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: readme}\nspec:\n';
/** The page the claims are made in, with its line breaks as plain spaces. */
const CLAIMS_PAGE = 'docs/runbooks.md';
const page = readFileSync(new URL(`../../${CLAIMS_PAGE}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
/** A test proves a sentence the page still makes: reworded, the test must be looked at again. */
const claimed = (...sentences: string[]) => {
  for (const sentence of sentences) expect(page, `${CLAIMS_PAGE} no longer says: ${sentence}`).toContain(sentence);
};
const site = uniqueSite('readme');
let worker: WorkerProcess;
let client: Client;
let http: Awaited<ReturnType<typeof startHttpServer>>;
/** When each request to a path arrived, to measure the gaps between retries. */
const arrivals = new Map<string, number[]>();
const arrived = (path: string) => arrivals.set(path, [...(arrivals.get(path) ?? []), Date.now()]);
let answerDelayed: () => void = () => undefined;
const delayed = new Promise<void>((resolve) => (answerDelayed = resolve));

beforeAll(async () => {
  http = await startHttpServer({
    // Fails every time, counting each attempt as a real request.
    '/always-down': (_req, res) => void (arrived('/always-down'), res.writeHead(500).end('still down')),
    '/down-typed': (_req, res) => void res.writeHead(500).end('down'),
    '/down-untyped': (_req, res) => void res.writeHead(500).end('down'),
    '/down-older': (_req, res) => void res.writeHead(500).end('down'),
    '/down-old-plan': (_req, res) => void res.writeHead(500).end('down'),
    '/broken': (_req, res) => void res.writeHead(500).end('broken'),
    // Held until the test sees the sibling's failure: the step is surely still running when it comes.
    '/delayed': async (_req, res) => {
      await delayed;
      res.writeHead(200).end('late but fine');
    },
  });
  // A worker process can take a minute to start on a busy machine.
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  await http?.close();
});

/** A protobuf Duration as milliseconds (seconds may be a Long). */
const ms = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(String(d?.seconds ?? 0)) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);

describe(`${CLAIMS_PAGE}: step semantics on a real server`, () => {
  it('continue_on_error: a failing step leaves its running siblings alone', async () => {
    claimed('Independent branches run in parallel; a failing step cancels its running siblings unless it has `continue_on_error: true`.');
    // Both siblings wait on the test — an approval and a held HTTP answer — until the failure is in: no race with their length.
    const plan = planOf(`${head}  steps:
    - {id: nap, uses: approval, needs: [], with: {message: "go on?", timeout: 10m}}
    - {id: slow, uses: http.check, needs: [], with: {url: "${http.url('/delayed')}", timeout: 5m}}
    - {id: broken, uses: http.check, needs: [], continue_on_error: true, retry: {max_attempts: 1}, with: {url: "${http.url('/broken')}"}}
    - {id: after, uses: log, needs: [nap, slow], with: {message: "both finished"}}
`);
    const before = http.count('/delayed');
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => stepOf(s, 'broken').status === 'failed' && stepOf(s, 'slow').status === 'running' && http.count('/delayed') === before + 1);
    answerDelayed();
    await voteAs(client, handle.workflowId, 'nap', 'readme-test');
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const [nap, slow, broken] = [stepOf(status, 'nap'), stepOf(status, 'slow'), stepOf(status, 'broken')];
    expect(broken.status).toBe('failed');
    // The failure came while both siblings were still running, and neither was cancelled.
    const failedAt = Date.parse(broken.ended_at!);
    for (const sibling of [nap, slow]) {
      expect(sibling.status).toBe('succeeded');
      expect(Date.parse(sibling.started_at!)).toBeLessThanOrEqual(failedAt);
      expect(Date.parse(sibling.ended_at!)).toBeGreaterThan(failedAt);
    }
    expect(slow.outputs).toMatchObject({ status: 200, body_excerpt: 'late but fine' });
    expect(nap.outputs).toMatchObject({ decision: 'approved', by: 'readme-test' });
    expect(http.count('/delayed')).toBe(before + 1);
    expect(stepOf(status, 'after').status).toBe('succeeded');
  });

  it('finally runs after a successful run too, and the run still succeeds; on_failure does not run', async () => {
    claimed('`on_failure` runs after a failed or cancelled run, then `finally` always runs');
    const plan = planOf(`${head}  steps:
    - {id: work, uses: log, with: {message: work}}
  on_failure:
    - {id: undo, uses: log, with: {message: undo}}
  finally:
    - {id: cleanup, uses: log, with: {message: "cleanup after \${{ steps.work.outcome }}"}}
`);
    const handle = await start(client, plan, site);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'cleanup')).toMatchObject({ phase: 'finally', status: 'succeeded', outputs: { message: 'cleanup after success' } });
    expect(Date.parse(stepOf(status, 'cleanup').started_at!)).toBeGreaterThanOrEqual(Date.parse(stepOf(status, 'work').ended_at!));
    expect(stepOf(status, 'undo').status).not.toBe('succeeded');
    expect(stepOf(status, 'undo').started_at).toBeUndefined();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  it('drill: skip skips the step in a drill and runs it in a real run', async () => {
    claimed('every other `write` or `production` step needs `drill: {with: {...}}` overrides', 'or `drill: skip` — or the runbook does not compile for drills');
    const text = `${head}  steps:
    - id: notify
      uses: http.request
      drill: skip
      with: {url: "${http.url('/notify')}", method: POST, body: "{}"}
    - {id: after, uses: log, with: {message: "after \${{ steps.notify.outcome }}"}}
`;
    const before = http.count('/notify');
    const drill = await runToEnd(client, planOf(text, { mode: 'drill' }), site);
    expect(drill.state).toBe('succeeded');
    expect(stepOf(drill, 'notify')).toMatchObject({ status: 'skipped', execution: 'skip', reason: 'skipped in drills (drill: skip)' });
    expect(stepOf(drill, 'after').outputs?.message).toBe('after skipped');
    expect(http.count('/notify')).toBe(before);

    const run = await runToEnd(client, planOf(text, { mode: 'run' }), site);
    expect(run.state).toBe('succeeded');
    expect(stepOf(run, 'notify')).toMatchObject({ status: 'succeeded', execution: 'run', outputs: { status: 200, simulated: false } });
    expect(stepOf(run, 'after').outputs?.message).toBe('after success');
    expect(http.count('/notify')).toBe(before + 1);
  });

  it('retry defaults: 3 attempts, 1s then 2s apart, with the default timeouts', async () => {
    claimed('Defaults: 3 attempts from 1s doubling up to 1m (or the initial interval, if longer), 10m timeout, 30s heartbeat timeout');
    const plan = planOf(`${head}  steps:
    - {id: probe, uses: http.check, with: {url: "${http.url('/always-down')}"}}
`);
    const handle = await start(client, plan, site);
    const status = await finalStatus(handle);
    expect(status.state).toBe('failed');
    expect(stepOf(status, 'probe')).toMatchObject({ status: 'failed', attempt: 3 });
    expect(stepOf(status, 'probe').reason).toContain('no attempts left (3 of 3)');
    // Three real requests, and no fourth: the server saw each attempt.
    expect(http.count('/always-down')).toBe(3);
    const [first, second, third] = arrivals.get('/always-down')!;
    // Temporal waits at least the interval after a failure; load only makes the gaps longer.
    expect(second! - first!).toBeGreaterThanOrEqual(950);
    expect(third! - second!).toBeGreaterThanOrEqual(1900);

    // What the server was told to do with the activity: the documented defaults.
    const history = await handle.fetchHistory();
    const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes).filter((a) => !!a);
    expect(scheduled).toHaveLength(1);
    const options = scheduled[0]!;
    expect(options.retryPolicy?.maximumAttempts).toBe(3);
    expect(ms(options.retryPolicy?.initialInterval)).toBe(1000);
    expect(options.retryPolicy?.backoffCoefficient).toBe(2);
    expect(ms(options.retryPolicy?.maximumInterval)).toBe(60_000);
    expect(ms(options.startToCloseTimeout)).toBe(600_000);
    expect(ms(options.heartbeatTimeout)).toBe(30_000);
  });

  it('non_retryable: a failure of a listed type is not retried; of another type it is', async () => {
    claimed(
      '`retry` (`max_attempts`, `initial_interval`, `backoff`, `max_interval`, `non_retryable`), `timeout` and `heartbeat_timeout` map onto Temporal activity options.',
    );
    const step = (path: string, types: string) => `${head}  steps:
    - id: probe
      uses: http.check
      retry: {max_attempts: 4, initial_interval: 100ms, backoff: 1, non_retryable: [${types}]}
      with: {url: "${http.url(path)}"}
`;
    // http.check reports a wrong status as failure type "check_failed" (before the failure catalog: "unexpected_status").
    const listed = await runToEnd(client, planOf(step('/down-typed', 'check_failed')), site);
    expect(listed.state).toBe('failed');
    expect(stepOf(listed, 'probe')).toMatchObject({ status: 'failed', attempt: 1 });
    expect(http.count('/down-typed')).toBe(1);

    // The older name still stops the retries: the compiler lists its code beside it…
    const older = await runToEnd(client, planOf(step('/down-older', 'unexpected_status')), site);
    expect(stepOf(older, 'probe')).toMatchObject({ status: 'failed', attempt: 1 });
    expect(http.count('/down-older')).toBe(1);
    // …and the interpreter maps it in a plan an older compiler made, which lists the old name alone.
    const compiled = planOf(step('/down-old-plan', 'unexpected_status'));
    const { hash: _hash, ...body } = { ...compiled, steps: compiled.steps.map((s) => ({ ...s, retry: { ...s.retry, non_retryable: ['unexpected_status'] } })) };
    const oldPlan = await runToEnd(client, { ...body, hash: hashPlan(body) }, site);
    expect(stepOf(oldPlan, 'probe')).toMatchObject({ status: 'failed', attempt: 1 });
    expect(http.count('/down-old-plan')).toBe(1);

    const other = await runToEnd(client, planOf(step('/down-untyped', 'unreachable')), site);
    expect(other.state).toBe('failed');
    expect(stepOf(other, 'probe')).toMatchObject({ status: 'failed', attempt: 4 });
    expect(http.count('/down-untyped')).toBe(4);
  });
});
