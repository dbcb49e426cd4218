// `rebound plan --failback RUN` and `rebound failback RUN` (registered here): a failback generated from what RUN changed, shown or run.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient } from '../client/connection.ts';
import { buildFailback, describeFailback, FailbackError, type Failback } from '../client/failback.ts';
import { loadRunRecord } from '../client/record.ts';
import type { Mode } from '../contract/plan.ts';
import { runCommand } from './commands.ts';
import { UsageError } from './errors.ts';
import { modeOption, parseMode } from './load.ts';
import { renderPlan } from './render.ts';

export interface FailbackOptions {
  mode: Mode;
  force?: boolean;
  json?: boolean;
  site?: string;
  id?: string;
}

async function failbackOf(client: Client, run: string, options: FailbackOptions): Promise<Failback> {
  const record = await loadRunRecord(client, run).catch((error: Error) => {
    throw new UsageError(`cannot read run ${run}: ${error.message}`);
  });
  try {
    return buildFailback(record, { mode: options.mode, force: options.force });
  } catch (error) {
    if (error instanceof FailbackError) throw new UsageError(error.message);
    throw error;
  }
}

/** `rebound plan --failback RUN`: what RUN changed, what becomes of each change, and the plan that does it. */
export async function planFailbackCommand(client: Client, run: string, options: FailbackOptions): Promise<void> {
  const failback = await failbackOf(client, run, options);
  if (options.json) return void console.log(JSON.stringify({ items: failback.items, plan: failback.plan }, null, 2));
  console.log(describeFailback(failback, run));
  if (failback.plan.steps.length) console.log(`\n${renderPlan(failback.plan)}`);
}

/** `rebound failback RUN`: runs the failback as an ordinary run, followed like `rebound run`. */
export async function failbackCommand(client: Client, run: string, options: FailbackOptions): Promise<void> {
  const failback = await failbackOf(client, run, options);
  if (!options.json) console.log(describeFailback(failback, run));
  if (!failback.plan.steps.length) return;
  await runCommand(async () => client, failback.plan, { param: [], json: options.json, site: options.site, id: options.id });
}

export function registerFailback(cli: Command): void {
  cli
    .command('failback')
    .argument('<run>')
    .addOption(modeOption())
    .option('--force', 'overwrite whatever the targets hold now (no expect_current guards)')
    .option('--json', 'print the final status as JSON instead of the live table')
    .option('--site <site>', 'run the failback on the workers of this site')
    .option('--id <workflow-id>', 'workflow id for the failback run')
    .description('undo what a finished run changed, newest first, as a new run; exit 0 when it succeeds')
    .action(async (run: string, o) => failbackCommand(await connectClient(), run, { ...o, mode: parseMode(o.mode) }));
}
