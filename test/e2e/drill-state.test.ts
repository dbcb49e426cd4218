// A drill of a five-switch traffic shift on a real HAProxy, through the real Temporal server and a worker process: each simulated switch finds the state the one before would have left (expect_current chain holds), the report shows each would-be before/after, and HAProxy is untouched.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { command, parseLocation, readServers } from '../../activities/routing/haproxy.ts';
import { buildReport } from '../../client/report/build.ts';
import { renderMarkdown } from '../../client/report/render.ts';
import { startHaproxy, type HaproxyServer } from '../../stack/haproxy.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, runToEnd, stepOf, uniqueSite } from '../helpers/runs.ts';

const log = (line: string) => console.log(`[drill-state test] ${line}`);
let worker: WorkerProcess | undefined;
let haproxy: HaproxyServer;
let backends: Awaited<ReturnType<typeof startHttpServer>>[] = [];
let site: string;

const location = () => parseLocation(haproxy.statsSocket.tcp);
async function realState(): Promise<Record<string, { state: string; weight: number }>> {
  const servers = await readServers(location(), 'web');
  return Object.fromEntries([...servers].map(([name, s]) => [name, { state: s.state, weight: s.weight }]));
}

beforeAll(async () => {
  const side = (name: string) => startHttpServer({ '/': (_q, res) => void res.writeHead(200).end(name) });
  backends = [await side('primary'), await side('standby')];
  const host = (s: (typeof backends)[number]) => new URL(s.url('/')).host;
  haproxy = await startHaproxy({ backends: { web: { servers: { primary: host(backends[0]!), standby: host(backends[1]!) } } }, log });
  // Before the failover: all traffic on the primary.
  await command(location(), 'set server web/primary weight 100');
  await command(location(), 'set server web/standby weight 0');
  site = uniqueSite('drill-state');
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
}, 180_000);
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await haproxy?.stop();
  await Promise.all(backends.map((s) => s.close()));
});

/** primary/standby weights, both in service. */
const split = (primary: number) => ({ primary: { state: 'ready', weight: primary }, standby: { state: 'ready', weight: 100 - primary } });
const shifts = [75, 50, 25, 0];

/** Four shifts, each guarded by the split the one before leaves, then the primary taken out (it names only the primary). */
const runbook = () => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: shift-drill}
spec:
  steps:
${shifts
  .map(
    (to, i) => `    - id: shift-${to}
      uses: routing.switch
      with:
        provider: haproxy
        haproxy: {socket: "${haproxy.statsSocket.tcp}", backend: web, servers: {primary: {weight: ${to}}, standby: {weight: ${100 - to}}}}
        expect_current: {primary: {weight: ${i === 0 ? 100 : shifts[i - 1]}}, standby: {weight: ${i === 0 ? 0 : 100 - shifts[i - 1]!}}}`,
  )
  .join('\n')}
    - id: primary-out
      uses: routing.switch
      with:
        provider: haproxy
        haproxy: {socket: "${haproxy.statsSocket.tcp}", backend: web, servers: {primary: {state: maint}}}
        expect_current: {primary: {state: ready, weight: 0}}
`;

describe('a drill carries the simulated state from switch to switch', () => {
  it('five switches on one HAProxy backend: each preflight finds what the one before would have left', { timeout: 180_000 }, async () => {
    const before = await realState();
    const client = await connect(inject('temporalAddress'));
    const plan = planOf(runbook(), { mode: 'drill' });
    const status = await runToEnd(client, plan, site);
    expect(status.state, JSON.stringify(status.steps.map((s) => [s.id, s.status, s.reason]))).toBe('succeeded');

    // The drill report: each step's would-be before (the previous step's after) and after.
    const ids = [...shifts.map((to) => `shift-${to}`), 'primary-out'];
    expect(status.report?.changes).toEqual([
      { step: 'shift-75', before: split(100), after: split(75) },
      { step: 'shift-50', before: split(75), after: split(50), before_from: 'shift-75' },
      { step: 'shift-25', before: split(50), after: split(25), before_from: 'shift-50' },
      { step: 'shift-0', before: split(25), after: split(0), before_from: 'shift-25' },
      { step: 'primary-out', before: { primary: split(0).primary }, after: { primary: { state: 'maint', weight: 0 } }, before_from: 'shift-0' },
    ]);
    for (const id of ids) {
      const outputs = stepOf(status, id).outputs!;
      expect(outputs.changed, id).toBe(true);
      const preflight = outputs.preflight as string[];
      expect(preflight.join('\n'), id).not.toContain('already at the target');
      if (id !== 'shift-75') expect(preflight.join('\n'), id).toMatch(/state as the earlier step "shift-[0-9]+" would have left it/);
    }
    expect(stepOf(status, 'shift-50').outputs!.preflight).toContain('would set web/primary: ready weight 75 → ready weight 50');

    // The document a team files: before/after per step, none "already at the target".
    const report = buildReport({ workflowId: 'drill', plan, status });
    expect(report.changes.map((c) => [c.step, c.before_from, c.previous, c.current])).toEqual(
      status.report!.changes!.map((c) => [c.step, c.before_from, c.before, c.after]),
    );
    const markdown = renderMarkdown(report);
    expect(markdown).not.toContain('already at the target');
    expect(markdown).toContain('(as "shift-75" would leave it)');

    // A drill changes nothing.
    expect(await realState()).toEqual(before);
  });
});

describe('a drill of a for_each carries the state from iteration to iteration', () => {
  it('four shifts as one looped step: each iteration finds what the one before would have left, and the report lists each', { timeout: 180_000 }, async () => {
    const before = await realState();
    const client = await connect(inject('temporalAddress'));
    const looped = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: shift-loop-drill}
spec:
  steps:
    - id: shift
      for_each: [75, 50, 25, 0]
      uses: routing.switch
      with:
        provider: haproxy
        haproxy: {socket: "${haproxy.statsSocket.tcp}", backend: web, servers: {primary: {weight: "\${{ item }}"}, standby: {weight: "\${{ 100 - item }}"}}}
`;
    const status = await runToEnd(client, planOf(looped, { mode: 'drill' }), site);
    expect(status.state, JSON.stringify(status.steps.map((s) => [s.id, s.status, s.reason]))).toBe('succeeded');
    expect(status.report?.changes).toEqual([
      { step: 'shift[0]', before: split(100), after: split(75) },
      { step: 'shift[1]', before: split(75), after: split(50), before_from: 'shift[0]' },
      { step: 'shift[2]', before: split(50), after: split(25), before_from: 'shift[1]' },
      { step: 'shift[3]', before: split(25), after: split(0), before_from: 'shift[2]' },
    ]);
    expect(await realState()).toEqual(before);
  });
});
