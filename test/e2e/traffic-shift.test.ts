// traffic.shift on a real HAProxy through the real Temporal server and worker processes: an analysis failing at 50 % rolls back, a passing one ends at 100/0, a worker SIGKILLed in a pause resumes where it was.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildFailback } from '../../client/failback.ts';
import { loadRunRecord } from '../../client/record.ts';
import { finalStatus, startRun } from '../../client/runs.ts';
import { renderStatus } from '../../cli/render.ts';
import { command, parseLocation, readServers } from '../../activities/routing/haproxy.ts';
import { startHaproxy, type HaproxyServer } from '../../stack/haproxy.ts';
import type { RunStatus } from '../../contract/run.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';

const log = (line: string) => console.log(`[shift test] ${line}`);
const workers: WorkerProcess[] = [];
let haproxy: HaproxyServer;
let backends: Awaited<ReturnType<typeof startHttpServer>>[] = [];
/** The analysis endpoint: it answers from what HAProxy really holds, so a check "fails at 50 %" because the weights are 50/50. */
let analysis: Awaited<ReturnType<typeof startHttpServer>>;
let failAt: number | undefined;

const location = () => parseLocation(haproxy.statsSocket.tcp);
async function weights(): Promise<Record<string, number>> {
  const servers = await readServers(location(), 'web');
  return Object.fromEntries([...servers].map(([name, s]) => [name, s.weight]));
}

beforeAll(async () => {
  const side = (name: string) => startHttpServer({ '/': (_q, res) => void res.writeHead(200).end(name) });
  backends = [await side('primary'), await side('standby')];
  const host = (s: (typeof backends)[number]) => new URL(s.url('/')).host;
  haproxy = await startHaproxy({ backends: { web: { servers: { primary: host(backends[0]!), standby: host(backends[1]!) } } }, log });
  analysis = await startHttpServer({
    '/health': async (_q, res) => {
      const now = await weights();
      res.writeHead(now.primary === failAt ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(now));
    },
  });
}, 180_000);
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await haproxy?.stop();
  await Promise.all([...backends, analysis].filter(Boolean).map((s) => s.close()));
});

/** Where a failed-over site stands before its failback: all traffic on the standby. */
async function failedOver(): Promise<void> {
  await command(location(), 'set server web/primary weight 0');
  await command(location(), 'set server web/standby weight 100');
}

const runbook = (extra = '') => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: shift}
spec:
  steps:
    - id: failback
      uses: traffic.shift
      with:
        provider: haproxy
        haproxy: {socket: "${haproxy.statsSocket.tcp}", backend: web}
        from: standby
        to: primary
        steps: [25, 50, 100]
${extra}      analysis:
        - id: healthy
          uses: http.check
          retry: {max_attempts: 1}
          with: {url: "${analysis.url('/health')}", expect_status: 200}
`;

type ShiftOutputs = { outcome: string; sets: { step: number; weights: Record<string, number> }[]; analyses: { step: number; outcome: string }[] };
const outputsOf = (status: RunStatus) => stepOf(status, 'failback').outputs as unknown as ShiftOutputs;

describe('traffic.shift on HAProxy', () => {
  let site: string;
  beforeAll(async () => {
    site = uniqueSite('shift');
    workers.push(await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 }));
  }, 180_000);

  it('an analysis failing at 50 % rolls back to the weights the shift started from', { timeout: 180_000 }, async () => {
    await failedOver();
    failAt = 50;
    const client = await connect(inject('temporalAddress'));
    const handle = await start(client, planOf(runbook()), site);
    const status = await finalStatus(handle);
    failAt = undefined;
    expect(status.state).toBe('failed');
    // Its failback has nothing to do: the shift ended where it began.
    const failback = buildFailback(await loadRunRecord(client, handle.workflowId), { mode: 'run' });
    expect(failback.plan.steps.filter((s) => s.uses === 'traffic.shift')).toEqual([]);
    expect(failback.items).toEqual([
      expect.objectContaining({ step: 'failback', action: 'unchanged', detail: 'the shift rolled back to the weights it started from' }),
    ]);
    const step = stepOf(status, 'failback');
    expect(step.reason).toMatch(/analysis "failback.healthy" \(http.check\) failed after step 2: .*503.*rolled back to standby=100 primary=0/);
    const outputs = outputsOf(status);
    expect(outputs.outcome).toBe('rolled_back');
    expect(outputs.sets.map((s) => [s.step, s.weights.primary])).toEqual([
      [1, 25],
      [2, 50],
      [0, 0],
    ]);
    expect(outputs.analyses.map((a) => [a.step, a.outcome])).toEqual([
      [1, 'passed'],
      [2, 'failed'],
    ]);
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
  });

  it('a passing analysis ends at 100/0, the traffic is on the target, and its failback puts the start back in one step', { timeout: 180_000 }, async () => {
    await failedOver();
    const client = await connect(inject('temporalAddress'));
    const handle = await start(client, planOf(runbook()), site);
    const handleId = handle.workflowId;
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const outputs = outputsOf(status);
    expect(outputs.outcome).toBe('completed');
    expect(outputs.sets.map((s) => s.weights)).toEqual([
      { standby: 75, primary: 25 },
      { standby: 50, primary: 50 },
      { standby: 0, primary: 100 },
    ]);
    expect(await weights()).toEqual({ primary: 100, standby: 0 });
    const answers = await Promise.all([1, 2, 3, 4].map(() => fetch(`${haproxy.frontendUrl}/`, { headers: { connection: 'close' } }).then((r) => r.text())));
    expect(new Set(answers)).toEqual(new Set(['primary']));
    // Its failback puts the starting weights back in one step, guarded by the weights it left.
    const record = await loadRunRecord(client, handleId);
    const failback = buildFailback(record, { mode: 'run' });
    const back = failback.plan.steps.filter((s) => s.uses === 'traffic.shift');
    expect(back).toHaveLength(1);
    expect(back[0]!.with).toMatchObject({ steps: [{ standby: 100, primary: 0 }], expect_current: { standby: 0, primary: 100 } });
    const undone = await finalStatus(await startRun(client, failback.plan, {}, { taskQueue: `rebound-${site}` }));
    expect(undone.error).toBeUndefined();
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
  });

  it('a target in maintenance is refused before any weight moves, and a guard that does not hold changes nothing', { timeout: 180_000 }, async () => {
    await failedOver();
    await command(location(), 'set server web/primary state maint');
    const client = await connect(inject('temporalAddress'));
    const refused = await finalStatus(await start(client, planOf(runbook()), site));
    await command(location(), 'set server web/primary state ready');
    expect(stepOf(refused, 'failback').reason).toMatch(/HAProxy server web\/primary is in maint: weight moves no traffic there/);
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
    const guarded = await finalStatus(await start(client, planOf(runbook('        expect_current: {standby: 50, primary: 50}\n')), site));
    expect(stepOf(guarded, 'failback').reason).toMatch(
      /expect_current does not hold: expected standby=50 primary=50, found standby=100 primary=0; nothing was changed/,
    );
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
  });

  it('a pause given by a parameter is checked when the run fills it in: a wrong one fails the step before any weight moves', { timeout: 180_000 }, async () => {
    await failedOver();
    const client = await connect(inject('temporalAddress'));
    const text = runbook('        pause: "${{ params.pause }}"\n').replace('  steps:\n', '  parameters: {pause: {type: string}}\n  steps:\n');
    const status = await finalStatus(await start(client, planOf(text), site, { pause: 'two minutes' }));
    expect(stepOf(status, 'failback').reason).toBe('with: pause: a duration such as 2m');
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
  });

  it('a drill preflights the whole sequence against the weights each step would leave, and moves nothing', { timeout: 180_000 }, async () => {
    await failedOver();
    const client = await connect(inject('temporalAddress'));
    const status = await finalStatus(await start(client, planOf(runbook(), { mode: 'drill' }), site));
    expect(status.error).toBeUndefined();
    const outputs = outputsOf(status) as ShiftOutputs & { current: Record<string, number>; simulated: boolean; preflight: string[] };
    expect(outputs.simulated).toBe(true);
    expect(outputs.sets.map((s) => s.weights.primary)).toEqual([25, 50, 100]);
    expect(outputs.current).toEqual({ standby: 0, primary: 100 });
    // The checks ran for real after every simulated step.
    expect(outputs.analyses.map((a) => [a.step, a.outcome])).toEqual([
      [1, 'passed'],
      [2, 'passed'],
      [3, 'passed'],
    ]);
    expect(outputs.preflight).toEqual(
      expect.arrayContaining(['step 1: standby=75 primary=25', 'step 2: standby=50 primary=50', 'step 3: standby=0 primary=100']),
    );
    expect(await weights()).toEqual({ primary: 0, standby: 100 });
  });

  it('a worker SIGKILLed during a pause is replaced and the shift resumes at the step it reached', { timeout: 300_000 }, async () => {
    await failedOver();
    const own = uniqueSite('shift-crash');
    const address = inject('temporalAddress');
    const first = await startWorkerProcess({ address, site: own, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
    workers.push(first);
    const client = await connect(address);
    const before = analysis.count('/health');
    const handle = await start(client, planOf(runbook('        pause: 20s\n')), own);
    // In the pause after step 2: its weights are set, its analysis has not run.
    const paused = await waitFor(handle, (s) => (outputsOf(s)?.sets?.length ?? 0) === 2, 120_000);
    expect(analysis.count('/health') - before).toBe(1);
    // `rebound status` says where the shift stands.
    expect(renderStatus(paused, Date.now(), 400)).toContain('step 2 set (standby=50 primary=50); pausing, then its analysis');
    await first.kill('SIGKILL');
    workers.push(await startWorkerProcess({ address, site: own, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 }));
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const outputs = outputsOf(status);
    // Every step set once and analysed once: nothing before the crash ran again.
    expect(outputs.sets.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(outputs.analyses.map((a) => a.step)).toEqual([1, 2, 3]);
    expect(analysis.count('/health') - before).toBe(3);
    const history = await handle.fetchHistory();
    const switches = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'routing.switch');
    // One read, then one switch per step.
    expect(switches).toHaveLength(4);
    expect(await weights()).toEqual({ primary: 100, standby: 0 });
  });
});
