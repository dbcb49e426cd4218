// Starts at most one run per runbook and dedup key: a deterministic workflow id, Temporal's USE_EXISTING policy, a cooldown.
import { createHash } from 'node:crypto';
import { signPlan, signStarter } from './signing.ts';
import { compileWorkflowOptions, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { Plan } from '../contract/plan.ts';
import { WORKFLOW_TYPE, type RunInput } from '../contract/run.ts';
import type { Trigger } from '../contract/trigger.ts';
import { MODE_KEY, RUNBOOK_KEY } from './runs.ts';

export type StartDecision =
  | { decision: 'started'; run: string; run_id: string }
  | { decision: 'deduplicated'; run: string; run_id: string }
  | { decision: 'suppressed'; run: string; until: string };

export interface DedupStart {
  plan: Plan;
  params: RunInput['params'];
  trigger: Trigger;
  taskQueue: string;
  key: string;
  cooldownMs: number;
}

/** Kept as written; every other UTF-8 byte becomes `%XX`. */
const KEPT = /^[A-Za-z0-9_-]$/;
const MAX_ESCAPED = 200;

/** Injective (UTF-8 is, and every `%` starts an escape), and never holds "." (child ids), ":" or "~". */
function escapeKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += KEPT.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The same runbook and key always give the same id, so Temporal itself refuses a second
 * run. Distinct keys give distinct ids, and none is a child run's (`<parent>.<step>`: runbook
 * names hold no "." and neither does any id made here): the key is escaped injectively, or,
 * when that is long, hashed under a `~` the escaped form never holds.
 */
export function alertWorkflowId(runbook: string, key: string): string {
  if (key === '') return `${runbook}:alert`;
  const escaped = escapeKey(key);
  const part = escaped.length <= MAX_ESCAPED ? escaped : `~sha256-${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  return `${runbook}:alert:${part}`;
}

/** Keys the ids before escaping kept as written (`<runbook>:alert:<key>`); others were hashed to `sha256-<32 hex>`. */
const LEGACY_KEY = /^[A-Za-z0-9._@=+-]{1,200}$/;

/**
 * The id an older serve gave this key, when it differs from today's and could name no other
 * key's run (not the hashed shape, which a literal key could imitate). Its running run is
 * attached to, so an upgrade mid-incident starts no second failover; its cooldown is not read.
 */
function legacyWorkflowId(runbook: string, key: string): string | undefined {
  if (!LEGACY_KEY.test(key) || /^sha256-[0-9a-f]{32}$/.test(key)) return undefined;
  const id = `${runbook}:alert:${key}`;
  return id === alertWorkflowId(runbook, key) ? undefined : id;
}

/** The running root run of this runbook under the old id; a child (`<parent>.<step>` has the same shape) has a parent and is not it. */
async function runningLegacy(client: Client, runbook: string, key: string): Promise<{ run: string; run_id: string } | undefined> {
  const id = legacyWorkflowId(runbook, key);
  if (!id) return undefined;
  try {
    const found = await client.workflow.getHandle(id).describe();
    const ours = found.status.name === 'RUNNING' && !found.parentExecution && found.typedSearchAttributes.get(RUNBOOK_KEY) === runbook;
    return ours ? { run: id, run_id: found.runId } : undefined;
  } catch (error) {
    if ((error as { name?: string }).name === 'WorkflowNotFoundError') return undefined;
    throw error;
  }
}

/** When the last run under this id closed, if it did; undefined while it runs or when there is none. */
async function closedAt(client: Client, workflowId: string): Promise<Date | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.closeTime ?? undefined;
  } catch (error) {
    if ((error as { name?: string }).name === 'WorkflowNotFoundError') return undefined;
    throw error;
  }
}

type RequestBuilder = {
  createStartWorkflowRequest(input: {
    workflowType: string;
    headers: Record<string, never>;
    options: ReturnType<typeof compileWorkflowOptions>;
  }): Promise<temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest>;
};

/**
 * Starts with conflict policy USE_EXISTING (a running run with this id is attached to, not
 * duplicated) and reuse policy ALLOW_DUPLICATE (a closed one may be followed by a new run).
 * The SDK's `start` does not say whether it started or attached, so this builds the request
 * with the client's own encoder (same payloads, search attributes and summary) and reads the
 * service's `started` flag.
 */
async function startOrAttach(client: Client, options: WorkflowStartOptions): Promise<{ started: boolean; runId: string }> {
  const builder = client.workflow as unknown as RequestBuilder;
  const request = await builder.createStartWorkflowRequest({ workflowType: WORKFLOW_TYPE, headers: {}, options: compileWorkflowOptions(options) });
  const response = await client.workflowService.startWorkflowExecution(request);
  return { started: response.started !== false, runId: response.runId ?? '' };
}

/** One decision for one alert: a new run, the running one, or nothing (cooldown). State lives in Temporal. */
export async function startDeduplicated(client: Client, start: DedupStart): Promise<StartDecision> {
  const workflowId = alertWorkflowId(start.plan.name, start.key);
  const legacy = await runningLegacy(client, start.plan.name, start.key);
  if (legacy) return { decision: 'deduplicated', ...legacy };
  if (start.cooldownMs > 0) {
    const closed = await closedAt(client, workflowId);
    if (closed && closed.getTime() + start.cooldownMs > Date.now()) {
      return { decision: 'suppressed', run: workflowId, until: new Date(closed.getTime() + start.cooldownMs).toISOString() };
    }
  }
  // An alert started it: no person did, so no approver is its starter.
  const started_by = signStarter({ identity: `alert:${start.plan.name}`, workflow_id: workflowId, plan_hash: start.plan.hash });
  const input: RunInput = { plan: start.plan, params: start.params, trigger: start.trigger, signatures: signPlan(start.plan), started_by };
  const { started, runId } = await startOrAttach(client, {
    workflowId,
    taskQueue: start.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: start.plan.name },
      { key: MODE_KEY, value: start.plan.mode },
    ],
    staticSummary: `${start.plan.name} (${start.plan.mode}, alert)`,
  });
  return { decision: started ? 'started' : 'deduplicated', run: workflowId, run_id: runId };
}
