// `rebound demo`: the example failover drill end to end on the embedded stack, against local HTTP stand-ins for primary, standby and load balancer.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { connectClient } from '../client/connection.ts';
import { demoBackupCommand } from './demo-backup.ts';
import { demoFailoverCommand } from './demo-failover.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { loadPlan } from './load.ts';
import { runCommand } from './commands.ts';
import { startStack } from '../stack/embedded.ts';
import { StackOwner } from '../stack/owner.ts';
import { untilInterrupted } from './keep.ts';

// Needs nothing but HTTP stand-ins, so the first command on a fresh machine stays quick; `demo failover` switches DNS and HAProxy for real.
export const DEMO_RUNBOOK = relative(process.cwd(), fileURLToPath(new URL('../runbooks/webhook-failover.yaml', import.meta.url)));

/**
 * Local stand-ins for the services the example runbook checks: a primary that is down
 * (503) and a standby that answers healthy, so the drill has a real outage to detect.
 */
export async function startDemoEndpoints(): Promise<{ primary: string; standby: string; lb: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/primary')) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"down"}');
    } else if (req.url?.startsWith('/standby')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","role":"standby","replication_lag_s":2}');
    } else if (req.url?.startsWith('/lb')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"pool":"orders","active":"standby"}');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    primary: `${base}/primary/health`,
    standby: `${base}/standby/health`,
    lb: `${base}/lb/pools/orders`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** `rebound demo`: the example DR drill, end to end, on the embedded default stack. */
export async function demoCommand(options: { keep?: boolean; file?: string }): Promise<void> {
  const file = options.file ?? DEMO_RUNBOOK;
  const plan = loadPlan(file, 'drill');
  // The stand-in load balancer takes any token; a real one reads it from the worker's env.
  process.env.ORDERS_LB_TOKEN ??= 'demo-token-not-secret';
  console.log('starting the embedded stack (Temporal dev server + worker)…');
  const owner = new StackOwner();
  const stack = await startStack(owner, { log: (line) => console.log(line) }).catch(async (error) => {
    await owner.stopAll();
    throw error;
  });
  const endpoints = await startDemoEndpoints();
  console.log(`Temporal ${stack.server.address}, Web UI ${stack.server.uiUrl}`);
  try {
    await runCommand(connectClient, plan, {
      param: [`primary_url=${endpoints.primary}`, `standby_url=${endpoints.standby}`, `lb_url=${endpoints.lb}`, 'approval_timeout=3s'],
    }).catch((error) => {
      if (error instanceof CommandFailed) console.error(error.message);
      throw error;
    });
    console.log(`\nWeb UI: ${stack.server.uiUrl}`);
    if (options.keep) await untilInterrupted(owner);
  } finally {
    await endpoints.close();
    await owner.stopAll();
  }
}

/** `rebound demo [drill|failover|backup|ml]`: each example is its own file; this picks one. */
export function registerDemo(cli: Command): void {
  cli
    .command('demo')
    .argument('[which]', 'drill (a quick DR drill), failover (DNS + HAProxy for real, then failback), backup or ml (model-inference DR drill)', 'drill')
    .option('--keep', 'leave the stack running afterwards')
    .option('--file <runbook>', 'another runbook to drill')
    .description('run an example end to end on the embedded default stack')
    .action(async (which: string, o) => {
      if (which === 'backup') return demoBackupCommand(o);
      if (which === 'failover') return demoFailoverCommand(o);
      // Loaded only when asked for: its site drives Route 53 through the AWS SDK, which every other command can do without.
      if (which === 'ml') return (await import('./demo-ml.ts')).demoMlCommand(o);
      if (which !== 'drill') throw new UsageError(`demo is drill, failover, backup or ml, not "${which}"`);
      return demoCommand(o);
    });
}
