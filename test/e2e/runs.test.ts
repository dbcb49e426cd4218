// Whole runbooks on the real Temporal server with `rebound worker` as a separate process: graph, if, retries, failures, approvals, children, cancel, drills.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { RunStatus } from '../../contract/run.ts';
import { startApprovalService, type ApprovalService } from '../helpers/approvals.ts';
import { rebound } from '../helpers/cli.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, runToEnd, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { finalStatus } from '../../client/runs.ts';

const head = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: e2e}\nspec:\n';
const site = uniqueSite('runs');
let worker: WorkerProcess;
let client: Client;
let http: Awaited<ReturnType<typeof startHttpServer>>;
let approvals: ApprovalService;

beforeAll(async () => {
  http = await startHttpServer({
    '/flaky': (_req, res, n) => void res.writeHead(n < 3 ? 503 : 200).end(n < 3 ? 'warming up' : 'ok'),
    '/down': (_req, res) => void res.writeHead(500).end('boom'),
    // Never answered (close() drops it): the cancel surely finds the step running, however long it takes to arrive.
    '/slow': () => undefined,
    '/json': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"db":{"role":"primary"}}'),
  });
  // A worker process can take a minute to start on a busy machine.
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
  approvals = await startApprovalService(client);
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  await http?.close();
  await approvals?.close();
});

describe('runs on a real Temporal server and worker process', () => {
  it('runs independent branches in parallel and joins them with needs', async () => {
    const plan = planOf(`${head}  steps:
    - {id: start, uses: log, with: {message: go}}
    - {id: left, uses: sleep, needs: [start], with: {duration: 2s}}
    - {id: right, uses: sleep, needs: [start], with: {duration: 2s}}
    - id: join
      needs: [left, right]
      uses: http.check
      with: {url: "${http.url('/json')}", expect_json: {path: db.role, equals: primary}}
    - {id: after, uses: log, with: {message: "latency \${{ steps.join.outputs.latency_ms }}"}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    const [left, right] = [stepOf(status, 'left'), stepOf(status, 'right')];
    // Both two-second sleeps overlapped: each started before the other ended.
    expect(Date.parse(left.started_at!)).toBeLessThan(Date.parse(right.ended_at!));
    expect(Date.parse(right.started_at!)).toBeLessThan(Date.parse(left.ended_at!));
    expect(Date.parse(stepOf(status, 'join').started_at!)).toBeGreaterThanOrEqual(Date.parse(left.ended_at!));
    expect(stepOf(status, 'after').outputs?.message).toMatch(/^latency \d+$/);
  });

  it('if: skips a step; a skipped need skips its dependants, the implicit order does not', async () => {
    const plan = planOf(`${head}  parameters: {failover: {type: boolean, default: false}}
  steps:
    - {id: gate, uses: log, if: "\${{ params.failover }}", with: {message: gate}}
    - {id: gated, uses: log, needs: [gate], with: {message: gated}}
    - {id: below, uses: log, with: {message: below}}
`);
    const skipped = await runToEnd(client, plan, site);
    expect(skipped.steps.map((s) => [s.id, s.status])).toEqual([
      ['gate', 'skipped'],
      ['gated', 'skipped'],
      ['below', 'succeeded'],
    ]);
    expect(stepOf(skipped, 'gated').reason).toContain('needs "gate", which was skipped');
    const ran = await runToEnd(client, plan, site, { failover: true });
    expect(ran.steps.every((s) => s.status === 'succeeded')).toBe(true);
  });

  it('retries a failing step, then succeeds, and counts the attempts', async () => {
    const plan = planOf(`${head}  steps:
    - id: wait-ready
      uses: http.check
      retry: {max_attempts: 5, initial_interval: 100ms, backoff: 1}
      with: {url: "${http.url('/flaky')}"}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'wait-ready').attempt).toBe(3);
    expect(http.count('/flaky')).toBe(3);
  });

  it('a failure cancels running siblings, then runs on_failure and finally', async () => {
    const plan = planOf(`${head}  steps:
    - {id: long, uses: sleep, needs: [], with: {duration: 1h}}
    - id: broken
      needs: []
      uses: http.check
      retry: {max_attempts: 2, initial_interval: 100ms}
      with: {url: "${http.url('/down')}"}
    - {id: never, uses: log, needs: [long, broken], with: {message: never}}
  on_failure:
    - {id: compensate, uses: log, with: {message: "undo after \${{ steps.broken.outcome }}"}}
  finally:
    - {id: cleanup, uses: log, with: {message: cleanup}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('failed');
    expect(status.error).toContain('step "broken" (http.check) failed');
    expect(status.error).toContain('answered 500');
    expect(status.error).toContain('no attempts left (2 of 2)');
    expect(stepOf(status, 'long').status).toBe('cancelled');
    expect(stepOf(status, 'never').status).toBe('skipped');
    expect(stepOf(status, 'compensate')).toMatchObject({ status: 'succeeded', outputs: { message: 'undo after failure' } });
    expect(stepOf(status, 'cleanup').status).toBe('succeeded');
    expect(Date.parse(stepOf(status, 'cleanup').started_at!)).toBeGreaterThanOrEqual(Date.parse(stepOf(status, 'compensate').ended_at!));
  });

  it('continue_on_error lets the run go on and exposes the outcome', async () => {
    const plan = planOf(`${head}  steps:
    - {id: probe, uses: http.check, continue_on_error: true, retry: {max_attempts: 1}, with: {url: "${http.url('/down')}"}}
    - {id: react, uses: log, needs: [probe], if: "steps.probe.outcome == 'failure'", with: {message: reacting}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'probe').status).toBe('failed');
    expect(stepOf(status, 'react').status).toBe('succeeded');
  });

  describe('approvals', () => {
    const plan = (onTimeout = 'reject', timeout = '1m') =>
      planOf(`${head}  steps:
    - {id: approve, uses: approval, with: {message: "fail over?", timeout: ${timeout}, on_timeout: ${onTimeout}}}
    - {id: act, uses: log, needs: [approve], with: {message: "by \${{ steps.approve.outputs.by }}"}}
`);

    it('approved by a person', async () => {
      const handle = await start(client, plan(), site);
      await waitFor(handle, (s) => stepOf(s, 'approve').status === 'running');
      expect((await approvals.vote(handle.workflowId, 'approve', 'approve', 'alice', 'primary is gone')).body.recorded).toMatchObject({ counted: true });
      const status = await finalStatus(handle);
      expect(status.state).toBe('succeeded');
      expect(stepOf(status, 'approve').outputs).toMatchObject({ decision: 'approved', by: 'alice', reason: 'primary is gone', timed_out: false });
      expect(stepOf(status, 'act').outputs?.message).toBe('by alice');
    });

    it('rejected: the run fails and names who rejected it', async () => {
      const handle = await start(client, plan(), site);
      await waitFor(handle, (s) => stepOf(s, 'approve').status === 'running');
      expect((await approvals.vote(handle.workflowId, 'approve', 'reject', 'bob', 'it is a drill')).body.recorded).toMatchObject({ counted: true });
      const status = await finalStatus(handle);
      expect(status.state).toBe('failed');
      expect(stepOf(status, 'approve').reason).toBe('rejected by bob: it is a drill');
      expect(stepOf(status, 'act').status).toBe('skipped');
    });

    it('timed out: the default outcome applies', async () => {
      const approved = await runToEnd(client, plan('approve', '1s'), site);
      expect(approved.state).toBe('succeeded');
      expect(stepOf(approved, 'approve').outputs).toMatchObject({ decision: 'approved', by: 'timeout', timed_out: true });
      const rejected = await runToEnd(client, plan('reject', '1s'), site);
      expect(rejected.state).toBe('failed');
      expect(stepOf(rejected, 'approve').reason).toContain('rejected by timeout');
    });
  });

  it('runs another runbook as a child workflow', async () => {
    const child = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: child}\nspec:\n  parameters: {who: {type: string, required: true}}\n  steps:\n    - {id: hello, uses: log, with: {message: "hello \${{ params.who }}"}}\n`;
    const plan = planOf(
      `${head}  steps:
    - {id: sub, uses: runbook, with: {path: child.yaml, params: {who: parent}}}
    - {id: after, uses: log, with: {message: "\${{ steps.sub.outputs.outputs.hello.message }}"}}
`,
      { files: { 'child.yaml': child } },
    );
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'sub').outputs).toMatchObject({ status: 'succeeded' });
    expect(stepOf(status, 'after').outputs?.message).toBe('hello parent');
    const childRun = await client.workflow.getHandle(String(stepOf(status, 'sub').outputs?.workflow_id)).describe();
    expect(childRun.status.name).toBe('COMPLETED');
  });

  it("shows a child runbook's steps in `rebound status` and decides its approval by the name status gives", async () => {
    const child = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: child}\nspec:\n  steps:\n    - {id: approve, uses: approval, with: {message: "switch?", timeout: 5m}}\n    - {id: done, uses: log, with: {message: switched}}\n`;
    const plan = planOf(`${head}  steps:\n    - {id: sub, uses: runbook, with: {path: child.yaml}}\n`, { files: { 'child.yaml': child } });
    const handle = await start(client, plan, site);
    await waitFor(client.workflow.getHandle(`${handle.workflowId}.sub`), (s) => stepOf(s, 'approve').status === 'running');
    const cli = (args: string[]) =>
      rebound(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), REBOUND_APPROVALS_URL: approvals.url, REBOUND_APPROVER_TOKEN: approvals.tokens.carol! });
    const shown = await cli(['status', handle.workflowId]);
    expect(shown.stdout).toMatch(/sub\s+runbook\s+main\s+running/);
    expect(shown.stdout).toMatch(/sub\.approve\s+approval\s+main\s+running/);
    expect(shown.stdout).toMatch(/sub\.done\s+log\s+main\s+pending/);

    const wrong = await cli(['approve', handle.workflowId, 'sub.nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`run ${handle.workflowId} has no step "sub.nope"; its steps are sub, sub.approve, sub.done`);
    const approved = await cli(['approve', handle.workflowId, 'sub.approve']);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toContain(`approved ${handle.workflowId} sub.approve as carol`);
    expect((await finalStatus(handle)).state).toBe('succeeded');
    const json = JSON.parse((await cli(['status', handle.workflowId, '--json'])).stdout) as RunStatus;
    expect(json.steps.map((s) => [s.id, s.status, s.outputs?.by])).toEqual([
      ['sub', 'succeeded', undefined],
      ['sub.approve', 'succeeded', 'carol'],
      ['sub.done', 'succeeded', undefined],
    ]);
  });

  it('cancel stops a running step and still runs on_failure and finally', async () => {
    const plan = planOf(`${head}  steps:
    - {id: slow, uses: http.check, heartbeat_timeout: 5s, with: {url: "${http.url('/slow')}", timeout: 5m}}
  on_failure:
    - {id: undo, uses: log, with: {message: undo}}
  finally:
    - {id: cleanup, uses: log, with: {message: cleanup}}
`);
    const handle = await start(client, plan, site);
    await waitFor(handle, (s) => stepOf(s, 'slow').status === 'running' && http.count('/slow') === 1);
    await handle.cancel();
    const status = await finalStatus(handle);
    expect(status.state).toBe('cancelled');
    expect(stepOf(status, 'slow').status).toBe('cancelled');
    expect(stepOf(status, 'undo').status).toBe('succeeded');
    expect(stepOf(status, 'cleanup').status).toBe('succeeded');
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it('drill mode simulates production changes and reports RTO against the objective', async () => {
    const plan = planOf(
      `${head}  objectives: {rto: 15m}
  steps:
    - {id: check, uses: http.check, with: {url: "${http.url('/json')}"}}
    - {id: switch, uses: http.request, with: {url: "${http.url('/lb')}", method: PUT}}
    - {id: settle, uses: sleep, with: {duration: 1s}}
`,
      { mode: 'drill' },
    );
    const before = http.count('/lb');
    const began = Date.now();
    const status = await runToEnd(client, plan, site);
    const wall = Date.now() - began;
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'switch').outputs).toMatchObject({ simulated: true, body_excerpt: expect.stringContaining('would send PUT') });
    expect(http.count('/lb')).toBe(before);
    expect(status.report?.rto).toMatchObject({ objective_ms: 900_000, met: true });
    // The measurement is real: it covers the 1s sleep and fits inside the run as the test saw it.
    const measured = status.report!.rto.measured_ms!;
    expect(measured).toBeGreaterThanOrEqual(1000);
    expect(measured).toBeLessThanOrEqual(wall);
  });

  it('a drill slower than its RTO objective reports it missed', async () => {
    const plan = planOf(
      `${head}  objectives: {rto: 1s}
  steps:
    - {id: check, uses: http.check, with: {url: "${http.url('/json')}"}}
    - {id: restore, uses: sleep, with: {duration: 2s}}
`,
      { mode: 'drill' },
    );
    const began = Date.now();
    const status = await runToEnd(client, plan, site);
    const wall = Date.now() - began;
    expect(status.state).toBe('succeeded');
    expect(status.report?.rto).toMatchObject({ objective_ms: 1000, met: false });
    expect(status.report!.rto.measured_ms!).toBeGreaterThanOrEqual(2000);
    expect(status.report!.rto.measured_ms!).toBeLessThanOrEqual(wall);
  });

  it('built-in inputs are checked after templates are filled in', async () => {
    const plan = planOf(`${head}  parameters: {wait: {type: string, default: "5 minutes"}}
  steps:
    - {id: nap, uses: sleep, with: {duration: "\${{ params.wait }}"}}
`);
    const status = await runToEnd(client, plan, site);
    expect(status.state).toBe('failed');
    expect(stepOf(status, 'nap').reason).toMatch(/^with: duration: a duration such as 30s/);
  });
});
