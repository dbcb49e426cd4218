import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runbookJsonSchema } from '../../compiler/json-schema.ts';
import { rebound } from '../helpers/cli.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { uniqueSite } from '../helpers/runs.ts';

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
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  const site = uniqueSite('cli');
  const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress') });

  beforeAll(async () => {
    http = await startHttpServer({ '/down': (_q, res) => void res.writeHead(503).end('down') });
    worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle') });
  });
  afterAll(async () => {
    await worker?.kill();
    await http?.close();
  });

  it('run exits 0 on success and 1 on failure; --json prints the final status', async () => {
    const good = write('good.yaml', `${head}  steps:\n    - {id: hello, uses: log, with: {message: hi}}\n`);
    const ok = await rebound(['run', good, '--site', site, '--json'], env());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ state: 'succeeded', steps: [{ id: 'hello', status: 'succeeded', outputs: { message: 'hi' } }] });
    const bad = write('fail.yaml', `${head}  steps:\n    - {id: probe, uses: http.check, retry: {max_attempts: 1}, with: {url: "${http.url('/down')}"}}\n`);
    const failed = await rebound(['run', bad, '--site', site], env());
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('probe');
    expect(failed.stderr).toContain('run failed: step "probe" (http.check) failed: http: step "probe": GET');
    expect(failed.stderr).toContain('no attempts left (1 of 1)');
  });

  it('approve and reject a waiting step; status shows it; cancel; list', async () => {
    const file = write('gate.yaml', `${head}  steps:\n    - {id: gate, uses: approval, with: {timeout: 5m}}\n    - {id: go, uses: log, with: {message: go}}\n`);
    const id = `cli-${randomBytes(4).toString('hex')}`;
    const started = await rebound(['run', file, '--site', site, '--id', id, '--no-wait'], env());
    expect(started.code).toBe(0);
    let status = '';
    for (let i = 0; i < 50 && !/gate\s+approval\s+main\s+running/.test(status); i++) {
      status = (await rebound(['status', id], env())).stdout;
    }
    expect(status).toMatch(/gate\s+approval\s+main\s+running/);
    const wrong = await rebound(['approve', id, 'go'], env());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('not an approval');
    const approved = await rebound(['approve', id, 'gate', '--by', 'carol', '--reason', 'ok'], env());
    expect(approved).toMatchObject({ code: 0 });
    let final = '';
    for (let i = 0; i < 50 && !final.includes('"state": "succeeded"'); i++) final = (await rebound(['status', id, '--json'], env())).stdout;
    expect(JSON.parse(final).steps[0].outputs).toMatchObject({ decision: 'approved', by: 'carol' });

    const other = `cli-${randomBytes(4).toString('hex')}`;
    await rebound(['run', file, '--site', site, '--id', other, '--no-wait'], env());
    for (let i = 0; i < 50 && !/running/.test(status); i++) status = (await rebound(['status', other], env())).stdout;
    expect((await rebound(['reject', other, 'gate', '--reason', 'not today'], env())).code).toBe(0);
    const third = `cli-${randomBytes(4).toString('hex')}`;
    await rebound(['run', file, '--site', site, '--id', third, '--no-wait'], env());
    expect((await rebound(['cancel', third], env())).code).toBe(0);

    let list: Array<{ workflow_id: string; status: string; runbook: string }> = [];
    for (let i = 0; i < 50; i++) {
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
