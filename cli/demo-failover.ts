// `rebound demo failover` (npm run demo:failover): dr-failover.yaml for real on loopback — PowerDNS and HAProxy switched to a standby, then failed back, with reports.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../client/connection.ts';
import { newRunId } from '../client/runs.ts';
import { startStack } from '../stack/embedded.ts';
import { startFailoverSite, RECORD, type FailoverSite } from '../stack/failover-site.ts';
import { StackOwner } from '../stack/owner.ts';
import { DATA } from '../stack/tools.ts';
import { runCommand } from './commands.ts';
import { failbackCommand } from './failback.ts';
import { untilInterrupted } from './keep.ts';
import { loadPlan } from './load.ts';
import { reportText } from './report.ts';

const RUNBOOK = relative(process.cwd(), fileURLToPath(new URL('../runbooks/dr-failover.yaml', import.meta.url)));

/** What a client sees: the name's answer, who answers at that address, and who answers through HAProxy. */
async function show(site: FailoverSite, when: string): Promise<void> {
  const [addresses, byName, proxied] = await Promise.all([site.resolve(), site.byName(), site.throughProxy()]);
  console.log(`\n${when}: ${RECORD} → ${addresses.join(', ')}; http://${RECORD.slice(0, -1)}:${site.port} answers from ${byName}; HAProxy sends to ${proxied}`);
}

async function writeReports(run: string, name: string): Promise<string[]> {
  const client = await connectClient();
  const dir = join(DATA, 'demo-failover');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const format of ['md', 'html'] as const) {
    const file = join(dir, `${name}.${format}`);
    writeFileSync(file, await reportText(client, run, format));
    files.push(relative(process.cwd(), file));
  }
  return files;
}

/** The failover, then its generated failback, each followed live, each reported. */
async function failoverAndBack(site: FailoverSite): Promise<void> {
  const plan = loadPlan(RUNBOOK, 'run');
  await show(site, 'before');
  site.setPrimaryHealthy(false);
  console.log('\nthe primary starts failing (HTTP 503); running the failover for real…\n');
  const failover = newRunId(plan);
  const param = Object.entries({ ...site.params, approval_timeout: '2s' }).map(([k, v]) => `${k}=${v}`);
  await runCommand(connectClient, plan, { param, id: failover });
  await show(site, 'after the failover');
  site.setPrimaryHealthy(true);
  console.log(`\nthe primary is healthy again; rebound failback ${failover}:\n`);
  const client = await connectClient();
  const failback = `${failover}-failback`;
  await failbackCommand(client, failover, { mode: 'run', id: failback });
  await show(site, 'after the failback');
  const reports = [...(await writeReports(failover, 'failover')), ...(await writeReports(failback, 'failback'))];
  console.log(`\nreports: ${reports.join(', ')}`);
}

export async function demoFailoverCommand(options: { keep?: boolean }): Promise<void> {
  const owner = new StackOwner();
  const log = (line: string) => console.log(line);
  try {
    console.log('starting PowerDNS, HAProxy and two stand-in sites on loopback (installed from Debian on first use)…');
    const site = await startFailoverSite({ owner, log });
    // The worker runs in this process and reads the API key from its environment, as a real worker would.
    process.env.PDNS_API_KEY = site.pdns.apiKey;
    console.log('starting the embedded stack (Temporal dev server + worker)…');
    const stack = await startStack(owner, { log });
    console.log(`Temporal ${stack.server.address}, Web UI ${stack.server.uiUrl}`);
    await failoverAndBack(site);
    console.log(`\nWeb UI: ${stack.server.uiUrl}`);
    if (options.keep) await untilInterrupted(owner);
  } finally {
    await owner.stopAll();
  }
}
