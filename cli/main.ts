// The `rebound` command line: every verb and its options wired with commander, and the exit codes (2 usage, 1 failed).
import { Command, CommanderError, Option } from 'commander';
import { keyCommands } from './keys.ts';
import { runbookJsonSchema } from '../compiler/json-schema.ts';
import { connectClient } from '../client/connection.ts';
import { runWorker } from '../worker/main.ts';
import { decideCommand } from './approve.ts';
import { cancelCommand, listCommand, runCommand, statusCommand, writeSchema } from './commands.ts';
import { demoCommand } from './demo.ts';
import { demoBackupCommand } from './demo-backup.ts';
import { demoFailoverCommand } from './demo-failover.ts';
import { devCommand } from './dev.ts';
import { failbackCommand, planFailbackCommand } from './failback.ts';
import { reportCommand } from './report.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { loadPlan, parseMode } from './load.ts';
import { renderPlan } from './render.ts';
import { restorePointCommands } from './restore-points.ts';
import { setupCommand } from './setup.ts';
import { serveCommand } from './serve.ts';
import { scheduleCommands } from './schedule.ts';

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
    .argument('[file]')
    .addOption(modeOption())
    .option('--json', 'print the Plan as JSON')
    .option('--failback <run>', 'instead of a file: the failback of a finished run, built from what it changed')
    .option('--force', 'with --failback: without the expect_current guards')
    .description('compile a runbook and show its execution graph and the changes a run would make')
    .action(async (file: string | undefined, o) => {
      if (o.failback) return planFailbackCommand(await connectClient(), o.failback, { ...o, mode: parseMode(o.mode) });
      if (!file) throw new UsageError('plan needs a runbook file, or --failback RUN');
      const plan = loadPlan(file, parseMode(o.mode));
      console.log(o.json ? JSON.stringify(plan, null, 2) : renderPlan(plan));
    });

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
      .option('--reason <text>', 'why')
      .option('--server <url>', 'the approval API of rebound serve (default: REBOUND_APPROVALS_URL)')
      .option('--cert <file>', 'your client certificate (mTLS) instead of REBOUND_APPROVER_TOKEN')
      .option('--key <file>', 'the private key of --cert')
      .option('--ca <file>', "the CA of serve's certificate, for HTTPS")
      .description(`${decision} an approval step that is waiting, as the person your token or certificate names`)
      .action(async (run: string, step: string, o) => decideCommand(run, step, decision, o));
  }
  cli
    .command('report')
    .argument('<run>')
    .option('--format <format>', 'md, html or json (default: from --out, else md)')
    .option('--out <file>', 'write to a file instead of stdout')
    .description("a run's report: objectives vs measured RTO/RPO, timeline (SVG Gantt chart), approvals, changes made or would be made")
    .action(async (run: string, o) => reportCommand(await connectClient(), run, o));
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
    .argument('[which]', 'drill (a quick DR drill), failover (DNS + HAProxy for real, then failback) or backup', 'drill')
    .option('--keep', 'leave the stack running afterwards')
    .option('--file <runbook>', 'another runbook to drill')
    .description('run an example end to end on the embedded default stack')
    .action(async (which: string, o) => {
      if (which === 'backup') return demoBackupCommand(o);
      if (which === 'failover') return demoFailoverCommand(o);
      if (which !== 'drill') throw new UsageError(`demo is drill, failover or backup, not "${which}"`);
      return demoCommand(o);
    });
  cli
    .command('setup')
    .option('--namespace <ns>', 'the namespace runs go to (default: $TEMPORAL_NAMESPACE or default)')
    .description('prepare a Temporal namespace for Rebound: register its search attributes (idempotent)')
    .action(async (o) => setupCommand(o.namespace));
  restorePointCommands(cli);
  keyCommands(cli);
  cli
    .command('serve')
    .requiredOption('--runbooks <dir>', 'directory of runbooks; those with triggers.alert are served (SIGHUP reloads it)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: a free one, printed in the "listening" line)', '9696')
    .option('--approvers <file>', 'approvers file: turns on the approval API (POST /v1/approvals/RUN/STEP); REBOUND_APPROVAL_KEY signs votes')
    .option('--client-ca <file>', "PEM CA of approvers' client certificates (mTLS; needs --tls-cert)")
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--site <site>', 'start runs on the workers of this site (task queue rebound-<site>)')
    .option('--max-alerts <n>', "alerts one request may carry; more is refused with 413 (set Alertmanager's max_alerts to it)", '100')
    .option('--max-runs <n>', 'distinct runs one request may start or attach to; more is refused with 429 and starts none', '10')
    .option('--metrics-auth', '/metrics asks for the bearer token (REBOUND_SERVE_TOKEN) too')
    .description('receive alert webhooks (Alertmanager, generic JSON) and start runbooks, one run per dedup key')
    .action(async (o) => serveCommand(o));
  scheduleCommands(cli);
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
