// The `rebound` command line: the verb groups, each registering its own verbs (one file per group), and the exit codes (2 usage, 1 failed).
import { Command, CommanderError } from 'commander';
import { registerRunVerbs } from './commands.ts';
import { registerDemo } from './demo.ts';
import { registerDev } from './dev.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { registerFailback } from './failback.ts';
import { registerKeys } from './keys.ts';
import { registerPlanVerbs } from './plan.ts';
import { registerRestorePoints } from './restore-points.ts';
import { registerNotify } from './notify.ts';
import { registerSchedule } from './schedule.ts';
import { registerSchema } from './schema.ts';
import { registerServe } from './serve.ts';
import { registerConsole } from './console.ts';
import { registerSetup } from './setup.ts';
import { registerWorker } from './worker.ts';

/** Every verb group, in the order `rebound --help` lists their verbs. */
const VERB_GROUPS: ReadonlyArray<(cli: Command) => void> = [
  registerPlanVerbs, // validate, plan
  registerFailback, // failback
  registerRunVerbs, // run, status, approve, reject, report, cancel, list
  registerSchema, // schema
  registerWorker, // worker
  registerDev, // dev
  registerDemo, // demo [drill|failover|backup|ml]
  registerSetup, // setup
  registerRestorePoints, // restore-points check|list|show|latest|sets|sync|verify|prune
  registerKeys, // keys generate|show
  registerServe, // serve
  registerConsole, // console
  registerSchedule, // schedule apply|list|pause|unpause|trigger|backfill|delete
  registerNotify, // notify test
];

export function program(): Command {
  const cli = new Command('rebound')
    .description('Disaster-recovery runbooks, compiled into plans that durable Temporal workflows run')
    .exitOverride()
    .showHelpAfterError();
  for (const register of VERB_GROUPS) register(cli);
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
