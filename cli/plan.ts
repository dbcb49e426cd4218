// `rebound validate` and `rebound plan`: look at runbooks without running them (compile errors, the graph, a failback's plan).
import type { Command } from 'commander';
import { connectClient } from '../client/connection.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { planFailbackCommand } from './failback.ts';
import { loadPlan, modeOption, parseMode } from './load.ts';
import { renderPlan } from './render.ts';

export function registerPlanVerbs(cli: Command): void {
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
}
