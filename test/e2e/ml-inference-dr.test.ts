// runbooks/ml-inference-dr.yaml end to end on the ML site (moto's Route 53, a real HAProxy, Prometheus, a Kubernetes control plane) through the real Temporal server and a worker process: a drill changes nothing and reports the would-be changes, a run fails over, redeploys and shifts back.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { finalStatus } from '../../client/runs.ts';
import type { RunStatus } from '../../contract/run.ts';
import { startMlSite, type MlSite } from '../../stack/ml-site.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';

const runbook = readFileSync(new URL('../../runbooks/ml-inference-dr.yaml', import.meta.url), 'utf8');
const log = (line: string) => console.log(`[ml site] ${line}`);
let site: MlSite;
let worker: WorkerProcess;
let queue: string;

beforeAll(async () => {
  site = await startMlSite({ log });
  queue = uniqueSite('ml-dr');
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site: queue,
    bundle: inject('workflowBundle'),
    env: site.env,
    startTimeoutMs: 120_000,
  });
  // The outage both modes start from, and Prometheus has seen it.
  await site.failPrimary();
  await site.scraped();
}, 1_800_000); // a first run builds the control plane and installs moto

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await site?.stop();
});

/** Short waits so a run takes seconds: the approval times out into approval, each shift step holds 1 s and is judged over 1 s. */
const params = () => ({ ...site.params, approval_timeout: '1s', rollout_timeout: '2m', shift_pause: '1s', analysis_window: '1s' });

async function runIt(mode: 'drill' | 'run'): Promise<RunStatus> {
  const client = await connect(inject('temporalAddress'));
  return finalStatus(await start(client, planOf(runbook, { mode }), queue, params()));
}

type Shift = {
  outcome: string;
  previous: Record<string, number>;
  current: Record<string, number>;
  sets: { step: number; weights: Record<string, number> }[];
  analyses: { step: number; check: string; outcome: string }[];
  simulated: boolean;
  preflight?: string[];
};
const outputs = (status: RunStatus, id: string) => stepOf(status, id).outputs as Record<string, unknown>;
const shiftOf = (status: RunStatus) => outputs(status, 'failback') as unknown as Shift;
/** Both checks, after each of the three steps, passed. */
const passedEverywhere = [1, 2, 3].flatMap((step) => [
  { step, check: 'failback.error-rate', outcome: 'passed' },
  { step, check: 'failback.latency', outcome: 'passed' },
]);

describe('runbooks/ml-inference-dr.yaml', () => {
  it('a drill runs every step, changes nothing on Route 53, HAProxy or the Deployment, and reports the would-be changes', { timeout: 300_000 }, async () => {
    const before = await site.state();
    expect(before.haproxy).toEqual({ primary: { state: 'ready', weight: 100 }, standby: { state: 'ready', weight: 0 } });
    const status = await runIt('drill');
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    expect(await site.state()).toEqual(before);
    expect(site.primary.healthy()).toBe(false); // nothing was redeployed
    expect(stepOf(status, 'detect').status).toBe('failed');
    expect(stepOf(status, 'approve').status).toBe('succeeded');

    const dns = outputs(status, 'fail-over-dns');
    expect(dns).toMatchObject({ simulated: true, changed: true, previous: { inverted: false }, current: { inverted: true } });
    expect((dns.preflight as string[]).join('\n')).toMatch(/would invert it \(inverted false, disabled false → inverted true, disabled false\)/);
    const redeploy = outputs(status, 'redeploy-primary');
    expect(redeploy).toMatchObject({ simulated: true, workload: 'deployment/model' });
    expect((redeploy.preflight as string[]).join('\n')).toMatch(/would restart deployment\/model in inference/);
    expect(outputs(status, 'entry-to-standby')).toMatchObject({ simulated: true, current: { standby: { weight: 100 }, primary: { weight: 0 } } });

    // The shift starts from what entry-to-standby would have left, not from today's 100/0 on the primary.
    const shift = shiftOf(status);
    expect(shift).toMatchObject({ simulated: true, outcome: 'completed', previous: { standby: 100, primary: 0 } });
    expect(shift.sets.map((s) => s.weights)).toEqual([
      { standby: 75, primary: 25 },
      { standby: 50, primary: 50 },
      { standby: 0, primary: 100 },
    ]);
    expect(shift.analyses).toEqual(passedEverywhere);
    const changes = status.report?.changes ?? [];
    expect(changes.map((c) => c.step)).toEqual(expect.arrayContaining(['fail-over-dns', 'redeploy-primary', 'entry-to-standby', 'failback']));
    expect(changes.find((c) => c.step === 'entry-to-standby')).toMatchObject({ before: { primary: { weight: 100 } }, after: { primary: { weight: 0 } } });
    expect(shift.preflight?.join('\n')).toMatch(/state as the earlier step "entry-to-standby" would have left it/);
    expect(changes.find((c) => c.step === 'failback')).toMatchObject({ before: { standby: 100, primary: 0 }, before_from: 'entry-to-standby' });
    // DNS comes back from what fail-over-dns would have left (inverted), not from today's uninverted check.
    const back = outputs(status, 'dns-back');
    expect(back).toMatchObject({ simulated: true, changed: true, previous: { inverted: true }, current: { inverted: false } });
    expect((back.preflight as string[]).join('\n')).toMatch(/state as the earlier step "fail-over-dns" would have left it: inverted true/);
  });

  it(
    'a run fails Route 53 over and back, redeploys the primary, and shifts the entry back to it in steps with passing analyses',
    { timeout: 300_000 },
    async () => {
      const before = await site.state();
      expect(site.primary.healthy()).toBe(false);
      const status = await runIt('run');
      expect(status.error).toBeUndefined();
      expect(status.state).toBe('succeeded');

      expect(outputs(status, 'fail-over-dns')).toMatchObject({ changed: true, simulated: false, current: { inverted: true } });
      expect(outputs(status, 'dns-back')).toMatchObject({ changed: true, simulated: false, previous: { inverted: true }, current: { inverted: false } });
      const after = await site.state();
      expect(after.healthCheck).toEqual({ inverted: false, disabled: false });
      expect(after.haproxy).toEqual({ primary: { state: 'ready', weight: 100 }, standby: { state: 'ready', weight: 0 } });
      expect(after.deployment.generation).toBe(before.deployment.generation + 1);
      expect(after.deployment.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(after.deployment.restartedAt).not.toBe(before.deployment.restartedAt);
      expect(site.primary.healthy()).toBe(true); // the redeploy ended the outage

      const shift = shiftOf(status);
      expect(shift).toMatchObject({ simulated: false, outcome: 'completed', previous: { standby: 100, primary: 0 }, current: { standby: 0, primary: 100 } });
      expect(shift.sets.map((s) => [s.step, s.weights.primary])).toEqual([
        [1, 25],
        [2, 50],
        [3, 100],
      ]);
      expect(shift.analyses).toEqual(passedEverywhere);
      expect(await site.answer()).toBe('primary entry');
      const served = await fetch(`${site.haproxy.frontendUrl}/v1/models/resnet`, { headers: { connection: 'close' } }).then((r) => r.json());
      expect(served).toMatchObject({ site: 'primary', model: { status: 'loaded' } });
    },
  );
});
