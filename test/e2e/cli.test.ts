// The `rebound` command as a separate process: validate, plan, schema, and run/status/approve/reject/cancel/list on a real server.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runbookJsonSchema } from '../../compiler/json-schema.ts';
import { rebound } from '../helpers/cli.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, uniqueSite } from '../helpers/runs.ts';
import type { Client } from '@temporalio/client';
import { startApprovalService, type ApprovalService } from '../helpers/approvals.ts';

const dir = mkdtempSync(join(tmpdir(), 'rebound-cli-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const head = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: cli}\nspec:\n';

describe('rebound validate / plan / schema (no server)', () => {
  it('validate: exit 0 for a good runbook, 1 with FILE:LINE:COL lines for a bad one', async () => {
    const ok = await rebound(['validate', 'runbooks/dr-failover.yaml']);
    expect(ok).toMatchObject({ code: 0 });
    const bad = write('bad.yaml', `${head}  steps:\n    - {id: a, uses: http.chek}\n    - {id: b, uses: log, needs: [zz], with: {message: x}}\n`);
    const result = await rebound(['validate', bad]);
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('.yaml:'));
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/bad\.yaml:\d+:\d+: /);
    expect(lines[0]).toContain('did you mean "http.check"?');
  });

  it('validate: an older failure name in non_retryable passes with a located warning; a name that is no code fails', async () => {
    const step = (names: string) =>
      `${head}  steps:\n    - id: a\n      uses: http.check\n      retry: {non_retryable: [${names}]}\n      with: {url: "http://127.0.0.1:1/"}\n`;
    const older = await rebound(['validate', write('older.yaml', step('unavailable'))]);
    expect(older.code).toBe(0);
    expect(older.stderr).toMatch(/older\.yaml:8:31: warning: step "a" retry\.non_retryable: "unavailable" is an older failure name; write "unreachable"/);
    const unknown = await rebound(['validate', write('unknown.yaml', step('unreachabel'))]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown\.yaml:8:31: step "a" retry\.non_retryable: "unreachabel" is not a failure code; did you mean "unreachable"\?/);
  });

  it('usage errors exit 2', async () => {
    expect((await rebound(['frobnicate'])).code).toBe(2);
    expect((await rebound(['plan', 'runbooks/dr-failover.yaml', '--mode', 'sideways'])).code).toBe(2);
    expect((await rebound(['run', 'runbooks/dr-failover.yaml', '--param', 'nope=1'])).code).toBe(2);
  });

  it('plan shows both kinds of edge and, in drill mode, the simulated changes', async () => {
    const plan = await rebound(['plan', 'runbooks/dr-failover.yaml', '--mode', 'drill']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/approve\s+approval\s+read\s+run\s+after detect/);
    expect(plan.stdout).toMatch(/check-standby\s+http\.check\s+read\s+run\s+needs approve/);
    expect(plan.stdout).toContain('switch-traffic: simulated');
    const json = JSON.parse((await rebound(['plan', 'runbooks/dr-failover.yaml', '--json'])).stdout);
    expect(json).toMatchObject({ version: 'rebound.plan/v1', name: 'orders-failover', mode: 'run' });
  });

  it('schema: the committed runbooks/runbook.schema.json is the generated one', async () => {
    const committed = JSON.parse(readFileSync('runbooks/runbook.schema.json', 'utf8'));
    expect(committed).toEqual(runbookJsonSchema());
    const printed = await rebound(['schema']);
    expect(JSON.parse(printed.stdout)).toEqual(committed);
  });
});

describe('rebound run / status / approve / reject / cancel / list (real server and worker)', () => {
  let worker: WorkerProcess;
  let client: Client;
  let approvals: ApprovalService;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  const site = uniqueSite('cli');
  const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress') });
  // approve/reject go through serve's approval API, as carol.
  const approver = () => ({ ...env(), REBOUND_APPROVALS_URL: approvals.url, REBOUND_APPROVER_TOKEN: approvals.tokens.carol! });

  beforeAll(async () => {
    http = await startHttpServer({ '/down': (_q, res) => void res.writeHead(503).end('down') });
    // A worker process can take a minute to start on a busy machine.
    worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
    client = await connect(inject('temporalAddress'));
    approvals = await startApprovalService(client);
  }, 180_000);
  afterAll(async () => {
    await approvals?.close();
    await client?.connection.close();
    await worker?.kill();
    await http?.close();
  });

  it('run exits 0 on success and 1 on failure; --json prints the final status', async () => {
    const good = write('good.yaml', `${head}  steps:\n    - {id: hello, uses: log, with: {message: hi}}\n`);
    const ok = await rebound(['run', good, '--site', site, '--json'], env());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ state: 'succeeded', steps: [{ id: 'hello', status: 'succeeded', outputs: { message: 'hi' } }] });
    const bad = write('fail.yaml', `${head}  steps:\n    - {id: probe, uses: http.check, retry: {max_attempts: 1}, with: {url: "${http.url('/down')}"}}\n`);
    const failed = await rebound(['run', bad, '--site', site], { ...env(), REBOUND_UI_URL: '' });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('probe');
    // No Web UI is known on a server Rebound did not start: no guessed link.
    expect(failed.stdout).not.toContain('/namespaces/');
    expect(failed.stdout).toMatch(/\nrun failed\n?$/);
    // With REBOUND_UI_URL (the embedded stack sets it), the run's page is named.
    const linked = await rebound(['run', good, '--site', site, '--id', `${site}-linked`], { ...env(), REBOUND_UI_URL: 'https://temporal-ui.example/' });
    expect(linked.stdout).toContain(`run succeeded: https://temporal-ui.example/namespaces/default/workflows/${site}-linked`);
    expect(failed.stderr).toContain('run failed: step "probe" (http.check) failed: http: step "probe": GET');
    expect(failed.stderr).toContain('no attempts left (1 of 1)');
  });

  /** Runs `rebound status RUN --json` until `predicate` holds for that run (each call is a new process). */
  async function statusUntil(run: string, predicate: (s: { state: string; steps: Array<{ id: string; status: string }> }) => boolean, what: string) {
    // Each poll is a new process (seconds each when the machine is busy), hence the long wait.
    const deadline = Date.now() + 120_000;
    let last = '';
    while (Date.now() < deadline) {
      const result = await rebound(['status', run, '--json'], env());
      last = result.stdout || result.stderr;
      if (result.code === 0 && predicate(JSON.parse(result.stdout))) return JSON.parse(result.stdout);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`run ${run}: ${what} not reached within 120s; last status:\n${last}`);
  }
  const gateRunning = (s: { steps: Array<{ id: string; status: string }> }) => s.steps.find((step) => step.id === 'gate')?.status === 'running';

  // About twenty `rebound` processes, each a Node start with tsx: up to ten seconds apiece on a loaded 2-core machine.
  it('approve and reject a waiting step; status shows it; cancel; list', { timeout: 480_000 }, async () => {
    const file = write('gate.yaml', `${head}  steps:\n    - {id: gate, uses: approval, with: {timeout: 5m}}\n    - {id: go, uses: log, with: {message: go}}\n`);
    const id = `cli-${randomBytes(4).toString('hex')}`;
    const started = await rebound(['run', file, '--site', site, '--id', id, '--no-wait'], env());
    expect(started.code).toBe(0);
    await statusUntil(id, gateRunning, 'gate running');
    // The table, as a person reads it, says so too.
    const status = (await rebound(['status', id], env())).stdout;
    expect(status).toMatch(/gate\s+approval\s+main\s+running/);
    const wrong = await rebound(['approve', id, 'go'], approver());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('not an approval');
    const approved = await rebound(['approve', id, 'gate', '--reason', 'ok'], approver());
    expect(approved).toMatchObject({ code: 0 });
    const final = await statusUntil(id, (s) => s.state !== 'running', 'the end');
    expect(final.state).toBe('succeeded');
    expect(final.steps[0].outputs).toMatchObject({ decision: 'approved', by: 'carol' });

    // The second run is polled on its own: reject must find its gate waiting, not arrive early.
    const other = `cli-${randomBytes(4).toString('hex')}`;
    expect((await rebound(['run', file, '--site', site, '--id', other, '--no-wait'], env())).code).toBe(0);
    await statusUntil(other, gateRunning, 'gate running');
    expect((await rebound(['reject', other, 'gate', '--reason', 'not today'], approver())).code).toBe(0);
    const rejected = await statusUntil(other, (s) => s.state !== 'running', 'the end');
    expect(rejected.state).toBe('failed');
    expect(rejected.steps[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('not today') });
    const third = `cli-${randomBytes(4).toString('hex')}`;
    await rebound(['run', file, '--site', site, '--id', third, '--no-wait'], env());
    expect((await rebound(['cancel', third], env())).code).toBe(0);

    let list: Array<{ workflow_id: string; status: string; runbook: string }> = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      list = JSON.parse((await rebound(['list', '--json', '--limit', '50'], env())).stdout);
      const mine = list.filter((r) => [id, other, third].includes(r.workflow_id));
      if (mine.length === 3 && mine.every((r) => r.status !== 'running')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const statusOf = (w: string) => list.find((r) => r.workflow_id === w)?.status;
    expect([statusOf(id), statusOf(other), statusOf(third)]).toEqual(['completed', 'failed', 'cancelled']);
    expect(list.find((r) => r.workflow_id === id)?.runbook).toBe('cli');
  });
});
