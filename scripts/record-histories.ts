// Records the workflow histories the replay tests replay: each scenario run on a dev server, saved as JSON, old files never overwritten.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { compile } from '../compiler/index.ts';
import { finalStatus, startRun } from '../client/runs.ts';
import { approveSignal, rejectSignal, statusQuery } from '../contract/run.ts';
import { connectClient } from '../client/connection.ts';
import { approvalKey, castVote, recordedVote } from '../client/approvals.ts';
import { createWorker } from '../worker/worker.ts';
import { useLocalKeys } from '../stack/keys.ts';
import { startHaproxy } from '../stack/haproxy.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA, ensureTemporalCli } from '../stack/tools.ts';
import { SCENARIOS } from '../test/replay/scenarios.ts';

/**
 * Records the histories the replay tests run (test/replay/histories/). Run it once per
 * interpreter version, keep the old files: they are what in-flight runs look like.
 */
const out = resolve(process.argv[2] ?? 'test/replay/histories');
// Old histories are what runs in flight look like: never overwrite one, add new scenarios.
const force = process.argv.includes('--force');
mkdirSync(out, { recursive: true });
// Runs are signed (trusted-plans) and votes too (approval-policy): a local pair of each.
useLocalKeys(join(DATA, 'record'));
const server = await startTemporal({ dir: join(DATA, 'record') });
process.env.TEMPORAL_ADDRESS = server.address;
const worker = await createWorker({ taskQueue: 'record' });
const running = worker.run();
// Scenarios with per-site steps need a worker on each site's task queue.
const siteWorkers = await Promise.all([...new Set(SCENARIOS.flatMap((s) => s.sites ?? []))].map((site) => createWorker({ site })));
const siteRuns = siteWorkers.map((w) => w.run());
const client = await connectClient();
// Scenarios that switch routing reach a throwaway HAProxy (its servers need not answer: checks are off).
const toRecord = SCENARIOS.filter((s) => force || !existsSync(join(out, `${s.name}.json`)));
const haproxy = toRecord.some((s) => s.haproxy)
  ? await startHaproxy({ backends: { web: { servers: { primary: '127.0.0.1:9', standby: '127.0.0.1:9' } } } })
  : undefined;
try {
  for (const scenario of SCENARIOS) {
    if (!force && existsSync(join(out, `${scenario.name}.json`))) continue;
    const runbook = haproxy ? scenario.runbook.replaceAll('HAPROXY_SOCKET', haproxy.statsSocket.tcp) : scenario.runbook;
    const { plan, errors } = compile(runbook, {
      file: `${scenario.name}.yaml`,
      mode: scenario.mode,
      load: (p) => (scenario.files?.[p] ? { file: p, text: scenario.files[p]! } : undefined),
    });
    if (!plan) throw new Error(errors.map((e) => e.format()).join('\n'));
    const handle = await startRun(client, plan, scenario.params ?? {}, {
      taskQueue: 'record',
      workflowId: `replay-${scenario.name}-${Date.now()}`,
      trigger: scenario.trigger,
    });
    const waitRunning = async (step: string) => {
      for (;;) {
        const status = await handle.query(statusQuery);
        if (status.steps.find((s) => s.id === step)?.status === 'running') return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    if (scenario.approve) {
      await waitRunning(scenario.approve.step);
      await handle.signal(scenario.approve.decision === 'approve' ? approveSignal : rejectSignal, {
        step: scenario.approve.step,
        by: 'recorder',
        reason: 'replay scenario',
      });
    }
    if (scenario.votes) {
      const { step, forged, voters } = scenario.votes;
      await waitRunning(step);
      await handle.signal(approveSignal, { step, by: forged, reason: 'replay scenario' });
      for (const [name, groups] of Object.entries(voters)) {
        const cast = await castVote(
          client,
          { run: handle.workflowId, step, decision: 'approve', reason: 'replay scenario' },
          { name, groups, channel: 'token' },
          approvalKey(),
        );
        // One at a time, so the history holds each check before the next ballot.
        while (!(await recordedVote(client, cast.run, cast.step, cast.vote))) await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (scenario.cancelWhenRunning) {
      await waitRunning(scenario.cancelWhenRunning);
      await handle.cancel();
    }
    const status = await finalStatus(handle);
    // The temporal CLI's JSON is the format the SDK's replayer reads (historyFromJSON).
    const json = execFileSync(ensureTemporalCli(), ['workflow', 'show', '--address', server.address, '-w', handle.workflowId, '--output', 'json'], {
      encoding: 'utf8',
    });
    writeFileSync(join(out, `${scenario.name}.json`), json);
    console.log(`${scenario.name}: ${status.state}, ${JSON.parse(json).events.length} events`);
  }
} finally {
  worker.shutdown();
  siteWorkers.forEach((w) => w.shutdown());
  await Promise.all([running, ...siteRuns]);
  await haproxy?.stop();
  await server.stop();
}
