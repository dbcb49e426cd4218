import { Command, CommanderError, Option } from 'commander';
import { runbookJsonSchema } from '../compiler/json-schema.ts';
import { connectClient } from '../client/connection.ts';
import { runWorker } from '../worker/main.ts';
import { cancelCommand, decideCommand, listCommand, runCommand, statusCommand, writeSchema } from './commands.ts';
import { demoCommand } from './demo.ts';
import { demoBackupCommand } from './demo-backup.ts';
import { devCommand } from './dev.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { loadPlan, parseMode } from './load.ts';
import { renderPlan } from './render.ts';
import { restorePointCommands } from './restore-points.ts';
import { setupCommand } from './setup.ts';

const modeOption = () => new Option('--mode <mode>', 'run (for real) or drill (scratch targets, simulated production changes)').default('run');
const collect = (value: string, previous: string[]) => [...previous, value];

export function program(): Command {
  const cli = new Command('rebound')
    .description('Disaster-recovery runbooks, compiled into plans that durable Temporal workflows run')
    .exitOverride()
    .showHelpAfterError();

  cli
    .command('validate')
    .argument('<files...>')
    .addOption(modeOption())
    .description('compile runbooks and report every error as FILE:LINE:COL: message')
    .action((files: string[], o) => {
      let failed = 0;
      for (const file of files) {
        try {
          loadPlan(file, parseMode(o.mode));
          console.log(`${file}: ok`);
        } catch (error) {
          if (!(error instanceof CommandFailed)) throw error;
          failed++;
        }
      }
      if (failed) throw new CommandFailed(`${failed} of ${files.length} runbook(s) invalid`);
    });

  cli
    .command('plan')
    .argument('<file>')
    .addOption(modeOption())
    .option('--json', 'print the Plan as JSON')
    .description('compile a runbook and show its execution graph and the changes a run would make')
    .action((file: string, o) => {
      const plan = loadPlan(file, parseMode(o.mode));
      console.log(o.json ? JSON.stringify(plan, null, 2) : renderPlan(plan));
    });

  cli
    .command('run')
    .argument('<file>')
    .addOption(modeOption())
    .option('--param <name=value>', 'set a parameter (repeatable)', collect, [])
    .option('--json', 'print the final status as JSON instead of the live table')
    .option('--site <site>', 'run on the workers of this site (task queue rebound-<site>)')
    .option('--id <workflow-id>', 'workflow id for the run (default: <runbook>-<mode>-<time>-<random>)')
    .option('--no-wait', 'start the run and return')
    .description('run a runbook; exit 0 when it succeeds, 1 when it fails')
    .action(async (file: string, o) => {
      const plan = loadPlan(file, parseMode(o.mode));
      await runCommand(connectClient, plan, o);
    });

  cli
    .command('status')
    .argument('<run>')
    .option('--json')
    .description("show a run's steps: status, attempt, times, outputs")
    .action(async (run: string, o) => statusCommand(await connectClient(), run, !!o.json));
  for (const decision of ['approve', 'reject'] as const) {
    cli
      .command(decision)
      .argument('<run>')
      .argument('<step>')
      .option('--by <name>', 'who decides (default: $USER)')
      .option('--reason <text>', 'why')
      .description(`${decision} an approval step that is waiting`)
      .action(async (run: string, step: string, o) => decideCommand(await connectClient(), run, step, decision, o));
  }
  cli
    .command('cancel')
    .argument('<run>')
    .description('cancel a run; its on_failure and finally steps still run')
    .action(async (run: string) => cancelCommand(await connectClient(), run));
  cli
    .command('list')
    .option('--limit <n>', 'how many', (v) => Number(v), 20)
    .option('--json')
    .description('recent runs')
    .action(async (o) => listCommand(await connectClient(), o));
  cli
    .command('schema')
    .option('--out <file>', 'write to a file instead of stdout')
    .description('JSON Schema of runbooks, for editors (yaml-language-server)')
    .action((o) => writeSchema(o.out, runbookJsonSchema()));
  cli
    .command('worker')
    .option('--site <site>', 'serve the task queue of this site')
    .option('--bundle <file>', 'prebuilt workflow bundle')
    .description('run a worker until SIGTERM')
    .action(async (o) => runWorker(o));
  cli
    .command('dev')
    .description('start the embedded default stack: Temporal dev server + worker, with the Web UI')
    .action(async () => devCommand());
  cli
    .command('demo')
    .argument('[which]', 'failover (the DR drill) or backup (nightly backup, then a restore drill)', 'failover')
    .option('--keep', 'leave the stack running afterwards')
    .option('--file <runbook>', 'another runbook to drill')
    .description('run an example end to end on the embedded default stack')
    .action(async (which: string, o) => {
      if (which === 'backup') return demoBackupCommand(o);
      if (which !== 'failover') throw new UsageError(`demo is failover or backup, not "${which}"`);
      return demoCommand(o);
    });
  cli
    .command('setup')
    .option('--namespace <ns>', 'the namespace runs go to (default: $TEMPORAL_NAMESPACE or default)')
    .description('prepare a Temporal namespace for Rebound: register its search attributes (idempotent)')
    .action(async (o) => setupCommand(o.namespace));
  restorePointCommands(cli);
  return cli;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
    process.exitCode = process.exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
    } else if (error instanceof UsageError) {
      console.error(`rebound: ${error.message}`);
      process.exitCode = 2;
    } else if (error instanceof CommandFailed) {
      console.error(`rebound: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(`rebound: ${(error as Error).message ?? error}`);
      process.exitCode = 1;
    }
  }
  // The Temporal client keeps sockets open; the command is over.
  setTimeout(() => process.exit(), 50).unref();
}
