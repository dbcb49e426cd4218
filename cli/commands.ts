// The CLI's run verbs: start a run and follow it live (warning when no worker polls), status, cancel, list, write the schema.
import { writeFileSync } from 'node:fs';
import logUpdate from 'log-update';
import type { Client } from '@temporalio/client';
import { parseParamArgs, resolveParams, ParameterError, type Plan } from '../compiler/index.ts';
import { connectConfig, taskQueueFor, webUiUrl } from '../client/connection.ts';
import { WORKFLOW_TYPE, type RunStatus } from '../contract/run.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { renderStatus } from './render.ts';
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

function uiUrl(workflowId?: string): string {
  const { connectionOptions, namespace } = connectConfig();
  return webUiUrl(String(connectionOptions.address), namespace, workflowId);
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
  if (!options.json) console.log(`run ${handle.workflowId} started (${plan.mode} mode)\n  ${url}`);
  if (options.wait === false) {
    if (options.json) console.log(JSON.stringify({ workflow_id: handle.workflowId, url }));
    return undefined;
  }
  const printer = progressPrinter(!!options.json);
  const watch = watchForWorker(client, taskQueue);
  const status = await followRun(client, handle, (s) => printer.update(s)).finally(() => clearTimeout(watch));
  printer.done(status);
  if (options.json) console.log(JSON.stringify({ workflow_id: handle.workflowId, url, ...status }, null, 2));
  else console.log(`\n${status.state === 'succeeded' ? 'run succeeded' : `run ${status.state}`}: ${url}`);
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
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c]!.length)));
  console.log(cols.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join('  '));
  for (const r of rows)
    console.log(
      cols
        .map((c, i) => r[c]!.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

export function writeSchema(path: string | undefined, schema: unknown): void {
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (path) writeFileSync(path, text);
  else process.stdout.write(text);
}
