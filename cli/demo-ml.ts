// `rebound demo ml` (npm run demo:ml): ml-inference-dr.yaml drilled on loopback — moto's Route 53, HAProxy, Prometheus and a Kubernetes control plane — while the primary model server is down.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../client/connection.ts';
import { newRunId } from '../client/runs.ts';
import type { RunStatus } from '../contract/run.ts';
import { startStack } from '../stack/embedded.ts';
import { PUBLIC_NAME, startMlSite, type MlSite } from '../stack/ml-site.ts';
import { StackOwner } from '../stack/owner.ts';
import { DATA } from '../stack/tools.ts';
import { runCommand } from './commands.ts';
import { untilInterrupted } from './keep.ts';
import { loadPlan } from './load.ts';
import { reportText } from './report.ts';

const RUNBOOK = relative(process.cwd(), fileURLToPath(new URL('../runbooks/ml-inference-dr.yaml', import.meta.url)));

/** Short waits, so the drill takes seconds: the approval times out into approval, each failback step holds 2 s. */
const DEMO_PARAMS = { approval_timeout: '3s', rollout_timeout: '2m', shift_pause: '2s', analysis_window: '2s' };

const weights = (haproxy: Record<string, { weight: number }>) =>
  Object.entries(haproxy)
    .map(([name, s]) => `${name} ${s.weight}`)
    .join(' / ');

/** What a client and an operator see: Route 53's answer, the entry's weights, the Deployment's last restart. */
async function show(site: MlSite, when: string): Promise<void> {
  const [answer, state] = await Promise.all([site.answer(), site.state()]);
  const primary = site.primary.healthy() ? 'up' : 'down (HTTP 503)';
  console.log(
    `\n${when}: ${PUBLIC_NAME} → ${answer}; health check inverted ${state.healthCheck.inverted}; HAProxy ${weights(state.haproxy)}; ` +
      `deployment/model restartedAt ${state.deployment.restartedAt ?? 'never'}; primary model ${primary}`,
  );
}

/** The drill report's would-be changes, one line each, then the whole report as Markdown and HTML files. */
async function report(status: RunStatus, run: string): Promise<void> {
  console.log('\nwould-be changes (nothing was changed):');
  for (const change of status.report?.changes ?? []) {
    // A shift's own first switch carries the state on to its next ones: only another step's is worth naming.
    const from = change.before_from && change.before_from !== change.step ? ` (state as ${change.before_from} would leave it)` : '';
    console.log(`  ${change.step}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}${from}`);
  }
  const client = await connectClient();
  const dir = join(DATA, 'demo-ml');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const format of ['md', 'html'] as const) {
    const file = join(dir, `drill.${format}`);
    writeFileSync(file, await reportText(client, run, format));
    files.push(relative(process.cwd(), file));
  }
  console.log(`\nreport: ${files.join(', ')}`);
}

async function drill(site: MlSite): Promise<void> {
  const plan = loadPlan(RUNBOOK, 'drill');
  await show(site, 'before');
  await site.failPrimary();
  await site.scraped();
  await show(site, 'the primary model server fails (HTTP 503, error ratio 1, as Prometheus now sees; Route 53 probes the entry and fails over by itself)');
  console.log('\ndrilling the runbook…\n');
  const run = newRunId(plan);
  const param = Object.entries({ ...site.params, ...DEMO_PARAMS }).map(([k, v]) => `${k}=${v}`);
  const status = await runCommand(connectClient, plan, { param, id: run });
  await show(site, 'after the drill (unchanged)');
  if (status) await report(status, run);
}

export async function demoMlCommand(options: { keep?: boolean }): Promise<void> {
  const owner = new StackOwner();
  const log = (line: string) => console.log(line);
  try {
    console.log('starting the ML site on loopback: two model-server stand-ins, HAProxy, moto (Route 53), Prometheus, a Kubernetes control plane…');
    const site = await startMlSite({ owner, log });
    // The worker runs in this process and reads the kubeconfig secret and AWS credentials from its environment, as a real worker would.
    Object.assign(process.env, site.env);
    console.log('starting the embedded stack (Temporal dev server + worker)…');
    const stack = await startStack(owner, { log });
    console.log(`Temporal ${stack.server.address}, Web UI ${stack.server.uiUrl}`);
    await drill(site);
    console.log(`\nWeb UI: ${stack.server.uiUrl}`);
    if (options.keep) await untilInterrupted(owner);
  } finally {
    await owner.stopAll();
  }
}
