// `rebound schedule apply|list|pause|unpause|trigger|backfill|delete`: runbook schedules on Temporal Schedules.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { compileFile } from '../compiler/index.ts';
import { connectClient, taskQueueFor } from '../client/connection.ts';
import { describeWhen, managedSchedules, reconcileSchedules, type DesiredSchedule, type ScheduleChange } from '../client/schedules.ts';
import type { RunInput } from '../contract/run.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { table } from './table.ts';

/** DIR|FILE… → the runbook files, directories read one level deep. */
function runbookFiles(paths: string[]): string[] {
  return paths.flatMap((path) => {
    if (!existsSync(path)) throw new UsageError(`${path}: no such file or directory`);
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(path, f));
  });
}

/** Every runbook must compile: with --prune, one with a typo would otherwise lose its schedule. */
function desiredSchedules(paths: string[], taskQueue: string): DesiredSchedule[] {
  const desired: DesiredSchedule[] = [];
  let failed = 0;
  for (const file of runbookFiles(paths)) {
    const first = compileFile(file, 'run');
    const schedule = first.plan?.triggers.schedule;
    const result = schedule?.mode === 'drill' ? compileFile(file, 'drill') : first;
    if (!result.plan) {
      for (const error of result.errors) process.stderr.write(`${error.format()}\n`);
      failed++;
      continue;
    }
    if (!schedule) continue;
    const twin = desired.find((d) => d.id === result.plan!.name);
    if (twin) throw new CommandFailed(`${file} and ${twin.file} are both named ${twin.id}; schedule names are runbook names and must differ`);
    desired.push({ id: result.plan.name, file, plan: result.plan, schedule, taskQueue });
  }
  if (failed) throw new CommandFailed(`${failed} runbook(s) do not compile; nothing was applied`);
  return desired;
}

const MARK = { create: '+', update: '~', delete: '-', unchanged: '=' } as const;

function printChanges(changes: ScheduleChange[], dryRun: boolean, json: boolean): void {
  if (json) return void console.log(JSON.stringify({ dry_run: dryRun, changes }, null, 2));
  if (!changes.length) return void console.log('no runbook has triggers.schedule; nothing to do');
  console.log(table(changes.map((c) => [`${MARK[c.action]} ${c.id}`, c.action, c.why])));
  const changed = changes.filter((c) => c.action !== 'unchanged').length;
  console.log(dryRun ? `dry run: ${changed} change(s) not applied` : `${changed} change(s) applied`);
}

async function lastOutcome(client: Client, description: ScheduleDescription): Promise<{ at?: string; run?: string; outcome?: string }> {
  const last = description.info.recentActions.at(-1);
  if (!last) return {};
  const { workflowId, firstExecutionRunId } = last.action.workflow;
  const status = await client.workflow
    .getHandle(workflowId, firstExecutionRunId)
    .describe()
    .then((d) => d.status.name.toLowerCase())
    .catch(() => 'unknown');
  return { at: last.takenAt.toISOString(), run: workflowId, outcome: status };
}

async function listRows(client: Client): Promise<Array<Record<string, unknown>>> {
  const rows = [];
  for (const [id, d] of [...(await managedSchedules(client))].sort(([a], [b]) => a.localeCompare(b))) {
    const input = d.action.args?.[0] as RunInput | undefined;
    const schedule = input?.plan.triggers.schedule;
    rows.push({
      name: id,
      when: schedule ? describeWhen(schedule) : '',
      next: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      last: await lastOutcome(client, d),
      paused: d.state.paused,
      note: d.state.note ?? '',
    });
  }
  return rows;
}

function printRows(rows: Array<Record<string, unknown>>): void {
  if (!rows.length) return void console.log('no schedules; create them with rebound schedule apply DIR');
  const cells = rows.map((r) => {
    const last = r.last as { at?: string; outcome?: string };
    return [
      String(r.name),
      r.paused ? `paused${r.note ? ` (${r.note})` : ''}` : 'active',
      (r.next as string[])[0] ?? '-',
      last.at ? `${last.at} ${last.outcome}` : '-',
      String(r.when),
    ];
  });
  console.log(table([['NAME', 'STATE', 'NEXT RUN', 'LAST RUN', 'WHEN'], ...cells]));
}

/** Runs `fn` on a schedule handle, turning "no such schedule" into a message that names it. */
async function onSchedule(name: string, fn: (client: Client) => Promise<void>): Promise<void> {
  try {
    await fn(await connectClient());
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new CommandFailed(`no schedule named ${name}; rebound schedule list shows them`);
    throw error;
  }
}

function time(value: string, flag: string): Date {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} expects a time such as 2026-11-24T02:00:00Z, not "${value}"`);
  return new Date(ms);
}

export function registerSchedule(cli: Command): void {
  const schedule = cli.command('schedule').description('runbook schedules on Temporal Schedules (from triggers.schedule)');
  schedule
    .command('apply')
    .argument('<paths...>', 'runbook files or directories')
    .option('--dry-run', 'print the changes without making them')
    .option('--prune', "delete Rebound's schedules whose runbook is not among these")
    .option('--site <site>', 'scheduled runs go to the workers of this site')
    .option('--json')
    .description('create, update (and with --prune delete) schedules to match the runbooks; prints the diff; idempotent')
    .action(async (paths: string[], o) => {
      const desired = desiredSchedules(paths, taskQueueFor(o.site));
      const changes = await reconcileSchedules(await connectClient(), desired, { dryRun: !!o.dryRun, prune: !!o.prune }).catch((error) => {
        if (error instanceof ScheduleAlreadyRunning)
          throw new CommandFailed(`a schedule named ${error.scheduleId} exists but Rebound did not make it; delete it or rename the runbook`);
        throw error;
      });
      printChanges(changes, !!o.dryRun, !!o.json);
    });
  schedule
    .command('list')
    .option('--json')
    .description('schedules: next runs, the last run and its outcome, paused with its note')
    .action(async (o) => {
      const rows = await listRows(await connectClient());
      if (o.json) console.log(JSON.stringify(rows, null, 2));
      else printRows(rows);
    });
  schedule
    .command('pause')
    .argument('<name>')
    .option('--note <text>', 'why (shown by list)')
    .description('stop starting runs until unpaused')
    .action(async (name: string, o) =>
      onSchedule(name, async (client) => {
        await client.schedule.getHandle(name).pause(o.note ?? `paused by ${process.env.USER ?? 'rebound'}`);
        console.log(`paused ${name}`);
      }),
    );
  schedule
    .command('unpause')
    .argument('<name>')
    .option('--note <text>')
    .description('start runs on schedule again')
    .action(async (name: string, o) =>
      onSchedule(name, async (client) => {
        await client.schedule.getHandle(name).unpause(o.note ?? `unpaused by ${process.env.USER ?? 'rebound'}`);
        console.log(`unpaused ${name}`);
      }),
    );
  schedule
    .command('trigger')
    .argument('<name>')
    .description('start a run now, whatever the overlap policy')
    .action(async (name: string) =>
      onSchedule(name, async (client) => {
        await client.schedule.getHandle(name).trigger();
        console.log(`triggered ${name}; rebound list shows the run`);
      }),
    );
  schedule
    .command('backfill')
    .argument('<name>')
    .requiredOption('--from <time>')
    .requiredOption('--to <time>')
    .description('run every time the schedule would have run between --from and --to, one after another')
    .action(async (name: string, o) => {
      const [start, end] = [time(o.from, '--from'), time(o.to, '--to')];
      if (start >= end) throw new UsageError('--from must be before --to');
      await onSchedule(name, async (client) => {
        await client.schedule.getHandle(name).backfill({ start, end, overlap: 'BUFFER_ALL' });
        console.log(`backfilling ${name} from ${start.toISOString()} to ${end.toISOString()}`);
      });
    });
  schedule
    .command('delete')
    .argument('<name>')
    .description('delete a schedule (runs it started go on)')
    .action(async (name: string) =>
      onSchedule(name, async (client) => {
        await client.schedule.getHandle(name).delete();
        console.log(`deleted ${name}`);
      }),
    );
}
