// Test helpers for runs: compile runbook text to a plan, start it on a site's queue, run it to the end, poll its status, pick a step.
import { randomBytes } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { compile, type Mode, type Plan } from '../../compiler/index.ts';
import { connectConfig } from '../../client/connection.ts';
import { finalStatus, startRun } from '../../client/runs.ts';
import { statusQuery, type RunStatus } from '../../contract/run.ts';

export function uniqueSite(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

/** Compiles runbook text (children from `files`), failing the test with located errors. */
export function planOf(text: string, options: { mode?: Mode; files?: Record<string, string> } = {}): Plan {
  const { plan, errors } = compile(text, {
    file: 'test.yaml',
    mode: options.mode ?? 'run',
    load: (path) => (options.files?.[path] !== undefined ? { file: path, text: options.files[path]! } : undefined),
  });
  if (!plan) throw new Error(errors.map((e) => e.format()).join('\n'));
  return plan;
}

/** A client of the server at `address`, with the TLS settings of the environment (the cluster run sets TEMPORAL_TLS_*). */
export async function connect(address: string): Promise<Client> {
  const { connectionOptions } = connectConfig();
  return new Client({ connection: await Connection.connect({ ...(connectionOptions as Parameters<typeof Connection.connect>[0]), address }) });
}

export async function start(client: Client, plan: Plan, site: string, params: Record<string, string | number | boolean> = {}): Promise<WorkflowHandle> {
  return startRun(client, plan, params, { taskQueue: `rebound-${site}` });
}

export async function runToEnd(client: Client, plan: Plan, site: string, params: Record<string, string | number | boolean> = {}): Promise<RunStatus> {
  return finalStatus(await start(client, plan, site, params));
}

/** Polls the status query until `predicate` holds (e.g. a step is running). */
export async function waitFor(handle: WorkflowHandle, predicate: (s: RunStatus) => boolean, timeoutMs = 60_000): Promise<RunStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (predicate(last)) return last;
    } catch {
      // no worker answering yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not reached within ${timeoutMs}ms; last status: ${JSON.stringify(last?.steps.map((s) => [s.id, s.status]))}`);
}

/**
 * Polls the server until a pending activity's last recorded heartbeat satisfies `predicate`.
 * A worker's heartbeats are throttled on their way out: what an activity heartbeated is not
 * on the server (and a retry after a crash will not get it) until this says so.
 */
export async function waitForHeartbeat(handle: WorkflowHandle, predicate: (details: unknown) => boolean, timeoutMs = 60_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    for (const pending of (await handle.describe()).raw.pendingActivities ?? []) {
      const payload = pending.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      last = defaultPayloadConverter.fromPayload(payload);
      if (predicate(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no heartbeat as expected within ${timeoutMs}ms; last: ${JSON.stringify(last)}`);
}

export const stepOf = (status: RunStatus, id: string) => {
  const step = status.steps.find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
};
