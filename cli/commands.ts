// The CLI's run verbs: start a run and follow it live (warning when no worker polls), status, approve/reject, report, cancel, list.
import logUpdate from 'log-update';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { parseParamArgs, resolveParams, ParameterError, type Plan } from '../compiler/index.ts';
import { connectClient, connectConfig, taskQueueFor, webUiUrl } from '../client/connection.ts';
import { WORKFLOW_TYPE, type RunStatus } from '../contract/run.ts';
import { decideCommand } from './approve.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { loadPlan, modeOption, parseMode } from './load.ts';
import { renderStatus } from './render.ts';
import { reportCommand } from './report.ts';
import { table } from './table.ts';
import { fetchStatus, followRun, MODE_KEY, RUNBOOK_KEY, startRun, withChildren } from '../client/runs.ts';
import { hasPollers, noWorkerAdvice } from '../client/pollers.ts';
import { missingSearchAttributes, NamespaceNotReadyError } from '../client/setup.ts';

export interface RunOptions {
  param: string[];
  json?: boolean;
  site?: string;
  id?: string;
  wait?: boolean;
}

export function params(plan: Plan, pairs: string[]): Record<string, string | number | boolean> {
  try {
    return resolveParams(plan, parseParamArgs(pairs));
  } catch (error) {
    if (error instanceof ParameterError) throw new UsageError(error.message);
    throw error;
  }
}

function uiUrl(workflowId?: string): string | undefined {
  return webUiUrl(connectConfig().namespace, workflowId);
}

/**
 * Prints a live table on a terminal (its last frame stays as the summary), or a line per
 * change when piped (CI logs, scripts), followed by the table.
 */
function progressPrinter(json: boolean): { update(status: RunStatus): void; done(status: RunStatus): void } {
  if (json) return { update() {}, done() {} };
  if (process.stdout.isTTY) return { update: (s) => logUpdate(renderStatus(s)), done: () => logUpdate.done() };
  const seen = new Map<string, string>();
  return {
    update(status) {
      for (const step of status.steps) {
        const key = `${step.status}|${step.attempt}|${step.reason ?? ''}`;
        if (seen.get(step.id) === key || step.status === 'pending') continue;
        seen.set(step.id, key);
        console.log(`${step.id}: ${step.status}${step.attempt > 1 ? ` (attempt ${step.attempt})` : ''}${step.reason ? ` — ${step.reason}` : ''}`);
      }
    },
    done: (status) => console.log(`\n${renderStatus(status)}`),
  };
}

export async function runCommand(connectTo: () => Promise<Client>, plan: Plan, options: RunOptions): Promise<RunStatus | undefined> {
  // Parameters are checked before connecting: a typo is a usage error, not a network one.
  const values = params(plan, options.param);
  const client = await connectTo();
  const taskQueue = taskQueueFor(options.site);
  const handle = await startRun(client, plan, values, { taskQueue, workflowId: options.id }).catch(async (error) => {
    // A bare "Failed to start Workflow" says nothing; an unprepared namespace is the usual cause.
    const missing = await missingSearchAttributes(client.connection, client.options.namespace).catch(() => []);
    throw missing.length ? new CommandFailed(new NamespaceNotReadyError(client.options.namespace, missing).message) : error;
  });
  const url = uiUrl(handle.workflowId);
  if (!options.json) console.log(`run ${handle.workflowId} started (${plan.mode} mode)${url ? `\n  ${url}` : ''}`);
  if (options.wait === false) {
    if (options.json) console.log(JSON.stringify({ workflow_id: handle.workflowId, ...(url ? { url } : {}) }));
    return undefined;
  }
  const printer = progressPrinter(!!options.json);
  const watch = watchForWorker(client, taskQueue);
  const status = await followRun(client, handle, (s) => printer.update(s)).finally(() => clearTimeout(watch));
  printer.done(status);
  if (options.json) console.log(JSON.stringify({ workflow_id: handle.workflowId, ...(url ? { url } : {}), ...status }, null, 2));
  else console.log(`\n${status.state === 'succeeded' ? 'run succeeded' : `run ${status.state}`}${url ? `: ${url}` : ''}`);
  if (status.state !== 'succeeded') throw new CommandFailed(`run ${status.state}${status.error ? `: ${status.error}` : ''}`);
  return status;
}

/** After a few seconds, says once on stderr that no worker polls the run's queue (and keeps waiting). */
function watchForWorker(client: Client, taskQueue: string, afterMs = Number(process.env.REBOUND_WORKER_WAIT_MS ?? 5000)): NodeJS.Timeout {
  return setTimeout(() => {
    hasPollers(client, taskQueue)
      .then((polled) => polled || console.error(`rebound: ${noWorkerAdvice(taskQueue)}`))
      .catch(() => undefined);
  }, afterMs);
}

export async function statusCommand(client: Client, run: string, json: boolean): Promise<void> {
  const status = await withChildren(client, run, await fetchStatus(client, run));
  console.log(json ? JSON.stringify(status, null, 2) : renderStatus(status));
}

export async function cancelCommand(client: Client, run: string): Promise<void> {
  await client.workflow.getHandle(run).cancel();
  console.log(`cancellation requested for ${run}; on_failure and finally steps will run`);
}

export async function listCommand(client: Client, options: { limit: number; json?: boolean }): Promise<void> {
  const rows: Array<Record<string, string>> = [];
  for await (const run of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}'` })) {
    rows.push({
      workflow_id: run.workflowId,
      runbook: run.typedSearchAttributes.get(RUNBOOK_KEY) ?? '',
      mode: run.typedSearchAttributes.get(MODE_KEY) ?? '',
      status: run.status.name.toLowerCase(),
      started: run.startTime.toISOString(),
      ended: run.closeTime?.toISOString() ?? '',
    });
    if (rows.length >= options.limit) break;
  }
  if (options.json) return void console.log(JSON.stringify(rows, null, 2));
  if (!rows.length) return void console.log('no runs yet');
  const cols = ['workflow_id', 'runbook', 'mode', 'status', 'started'];
  console.log(table([cols.map((c) => c.toUpperCase()), ...rows.map((r) => cols.map((c) => r[c]!))]));
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerRunVerbs(cli: Command): void {
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
}
