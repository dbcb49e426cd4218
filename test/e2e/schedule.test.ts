// `rebound schedule …` as a process on the real Temporal server with a worker process: apply, overlap, pause, restart, prune.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import { rebound } from '../helpers/cli.ts';
import { connect, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const suffix = randomBytes(3).toString('hex');
const tick = `tick-${suffix}`;
const slow = `slow-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'rebound-schedule-'));
const runbook = (name: string, schedule: string, steps: string) =>
  `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}}\nspec:\n  parameters: {who: {type: string, required: true}}\n  triggers:\n    schedule: ${schedule}\n  steps:\n${steps}`;
const tickSteps = `    - {id: say, uses: log, with: {message: "\${{ trigger.kind }} \${{ trigger.schedule.id }} \${{ params.who }}"}}\n`;
writeFileSync(join(dir, 'tick.yaml'), runbook(tick, '{every: 2s, params: {who: cron}}', tickSteps));
writeFileSync(join(dir, 'slow.yaml'), runbook(slow, '{every: 1s, overlap: skip, params: {who: slow}}', '    - {id: nap, uses: sleep, with: {duration: 4s}}\n'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Every CLI call is a process start on a shared, loaded machine: time for many of them.
const SLOW = 300_000;

describe('rebound schedule (process) with the real Temporal server and a worker process', () => {
  let worker: WorkerProcess;
  let client: Client;
  const site = uniqueSite('sched');
  const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress') });
  const start = () => startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle') });

  beforeAll(async () => {
    [worker, client] = await Promise.all([start(), connect(inject('temporalAddress'))]);
  });
  afterAll(async () => {
    for (const id of [tick, slow]) {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
    await worker?.kill();
  });

  const runs = async (name: string, extra = ''): Promise<WorkflowExecutionInfo[]> => {
    const out: WorkflowExecutionInfo[] = [];
    for await (const run of client.workflow.list({ query: `ReboundRunbook = '${name}'${extra}` })) out.push(run);
    return out;
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(500);
    }
    throw new Error(`not reached within ${timeoutMs}ms: ${what}`);
  };

  it(
    'apply creates the schedules, runs follow with trigger.schedule, and applying again changes nothing',
    async () => {
      const applied = await rebound(['schedule', 'apply', dir, '--site', site], env());
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(new RegExp(`\\+ ${tick}\\s+create\\s+every 2s, overlap skip`));
      const again = await rebound(['schedule', 'apply', dir, '--site', site, '--json'], env());
      expect(JSON.parse(again.stdout).changes.map((c: { action: string }) => c.action)).toEqual(['unchanged', 'unchanged']);

      await until('two completed tick runs', async () => (await runs(tick, " AND ExecutionStatus = 'Completed'")).length >= 2);
      const [done] = await runs(tick, " AND ExecutionStatus = 'Completed'");
      const status = await finalStatus(client.workflow.getHandle(done!.workflowId));
      expect(status.steps[0]!.outputs).toMatchObject({ message: `schedule ${tick} cron` });
    },
    SLOW,
  );

  it(
    'a changed runbook is an update: --dry-run only prints it',
    async () => {
      writeFileSync(join(dir, 'tick.yaml'), runbook(tick, '{every: 3s, params: {who: cron}}', tickSteps));
      const dry = await rebound(['schedule', 'apply', dir, '--site', site, '--dry-run'], env());
      expect(dry.stdout).toMatch(new RegExp(`~ ${tick}\\s+update\\s+schedule changed`));
      expect(dry.stdout).toContain('dry run: 1 change(s) not applied');
      expect((await rebound(['schedule', 'apply', dir, '--site', site, '--dry-run'], env())).stdout).toContain('1 change(s) not applied');
      expect((await rebound(['schedule', 'apply', dir, '--site', site], env())).stdout).toContain('1 change(s) applied');
      expect((await rebound(['schedule', 'apply', dir, '--site', site], env())).stdout).toContain('0 change(s) applied');
    },
    SLOW,
  );

  it(
    'with overlap skip, no two runs of a slow runbook overlap',
    async () => {
      await until('three completed slow runs', async () => (await runs(slow, " AND ExecutionStatus = 'Completed'")).length >= 3);
      const done = (await runs(slow, " AND ExecutionStatus = 'Completed'")).sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      for (let i = 1; i < done.length; i++) expect(done[i]!.startTime.getTime()).toBeGreaterThanOrEqual(done[i - 1]!.closeTime!.getTime());
      const description = await client.schedule.getHandle(slow).describe();
      expect(description.info.numActionsSkippedOverlap).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    'pause stops runs (list shows the note); unpause resumes them',
    async () => {
      expect((await rebound(['schedule', 'pause', tick, '--note', 'maintenance'], env())).code).toBe(0);
      const pausedAt = new Date();
      const list = JSON.parse((await rebound(['schedule', 'list', '--json'], env())).stdout) as Array<{ name: string; paused: boolean; note: string }>;
      expect(list.find((s) => s.name === tick)).toMatchObject({ paused: true, note: 'maintenance' });
      await sleep(7000);
      expect(await runs(tick, ` AND StartTime > '${pausedAt.toISOString()}'`)).toHaveLength(0);
      expect((await rebound(['schedule', 'unpause', tick], env())).code).toBe(0);
      await until('a tick run after unpausing', async () => (await runs(tick, ` AND StartTime > '${pausedAt.toISOString()}'`)).length > 0);
      expect((await rebound(['schedule', 'pause', 'no-such-schedule'], env())).stderr).toContain('no schedule named no-such-schedule');
    },
    SLOW,
  );

  it(
    'keeps firing across a worker restart',
    async () => {
      await worker.kill();
      const down = new Date();
      // The worker comes back only once the schedule has fired without it (a run, or one skipped
      // because a run is still open with no worker): no bet on how many ticks a pause holds.
      const fired = async () => {
        const { info } = await client.schedule.getHandle(tick).describe();
        return info.numActionsTaken + info.numActionsSkippedOverlap;
      };
      const before = await fired();
      await until('the schedule firing while the worker is down', async () => (await fired()) > before);
      worker = await start();
      await until('a run started after the worker went down completes', async () => {
        const started = await runs(tick, ` AND StartTime > '${down.toISOString()}' AND ExecutionStatus = 'Completed'`);
        return started.length > 0;
      });
    },
    SLOW,
  );

  it(
    'list, trigger, backfill, --prune and delete',
    async () => {
      const text = (await rebound(['schedule', 'list'], env())).stdout;
      expect(text).toMatch(new RegExp(`${slow}\\s+active\\s+\\S+\\s+\\S+ (completed|running)`));
      const before = (await runs(tick)).length;
      expect((await rebound(['schedule', 'trigger', tick], env())).code).toBe(0);
      const now = Date.now();
      const backfill = await rebound(
        ['schedule', 'backfill', tick, '--from', new Date(now - 3_600_000).toISOString(), '--to', new Date(now - 3_590_000).toISOString()],
        env(),
      );
      expect(backfill.code).toBe(0);
      await until('the triggered and backfilled runs', async () => (await runs(tick)).length >= before + 3);

      rmSync(join(dir, 'slow.yaml'));
      const kept = await rebound(['schedule', 'apply', dir, '--site', site], env());
      expect(kept.stdout).toMatch(new RegExp(`= ${slow}\\s+unchanged\\s+kept: not in these runbooks`));
      const pruned = await rebound(['schedule', 'apply', dir, '--site', site, '--prune'], env());
      expect(pruned.stdout).toMatch(new RegExp(`- ${slow}\\s+delete\\s+runbook no longer present`));
      expect((await rebound(['schedule', 'delete', tick], env())).code).toBe(0);
      const names = (JSON.parse((await rebound(['schedule', 'list', '--json'], env())).stdout) as Array<{ name: string }>).map((s) => s.name);
      expect(names).not.toContain(slow);
      expect(names).not.toContain(tick);
    },
    SLOW,
  );
});
