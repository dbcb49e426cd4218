// Builds a failback Plan from what a run may have changed: its production steps (succeeded, failed or cancelled), its restores over live targets, and its child runbooks', newest first, each reverted (once per resource: its net change) or handed to a person.
import { ACTIONS } from '../contract/actions/registry.ts';
import type { Mode, Plan, PlanSecret, PlanStep } from '../contract/plan.ts';
import { hashPlan } from '../compiler/index.ts';
import { DEFAULT_SITE_TIMEOUT_MS } from '../compiler/sites.ts';
import type { RunRecord } from './record.ts';
import { netHandling, netsOf } from './failback-net.ts';
import { flattenRun, type FlatStep } from './run-tree.ts';

export interface FailbackOptions {
  mode: Mode;
  /** Drop the `expect_current` guards: overwrite whatever the targets hold now. */
  force?: boolean;
}

/** One production change of the run and what the failback does about it. */
export interface FailbackItem {
  step: string;
  uses: string;
  ended_at?: string;
  /**
   * revert: a step puts it back; manual: a person must, behind an approval; unchanged: the step
   * changed nothing; restored: the run's own later steps put the resource back (they cancel out).
   */
  action: 'revert' | 'manual' | 'unchanged' | 'restored';
  /** The failback step that handles it (revert and manual). */
  failback_step?: string;
  detail: string;
  /** A net change (several steps on one resource, reverted once): the resource's key and the steps, oldest first; `step` is the last. */
  resource?: string;
  steps?: string[];
}

export interface Failback {
  plan: Plan;
  items: FailbackItem[];
}

/** The run cannot be failed back (still running, a drill, not found): a usage problem, not a crash. */
export class FailbackError extends Error {}

/** How long a manual-work approval waits before the failback stops (rejected). */
const MANUAL_TIMEOUT = '4h';

type Record_ = Pick<RunRecord, 'workflowId' | 'plan' | 'status' | 'inputs'> & { partial?: RunRecord['partial']; children?: Record<string, Record_> };

/** One production change, the child runbooks' included. */
export type Change = Required<Pick<FlatStep, 'state'>> & FlatStep;

/** A step that ran to an end: one that failed or was cancelled may have changed things before it stopped. */
const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/** What a restore step wrote over, when it restored into a target that may be live. */
function restoredOver(f: FlatStep): string | undefined {
  return f.input ? ACTIONS.get(f.step.uses)?.restores_over?.(f.input, f.state?.outputs ?? {}) : undefined;
}

function ownChanges(record: Record_): Change[] {
  return flattenRun(record).filter(
    (f): f is Change => f.step.execution === 'run' && ENDED.has(f.state?.status ?? '') && (f.step.impact === 'production' || restoredOver(f) !== undefined),
  );
}

/** What the run changed, newest first (by end time, then by plan order reversed). */
function changes(record: Record_): Change[] {
  return ownChanges(record)
    .map((change, index) => ({ change, index }))
    .sort((a, b) => (Date.parse(b.change.state.ended_at ?? '') || 0) - (Date.parse(a.change.state.ended_at ?? '') || 0) || b.index - a.index)
    .map(({ change }) => change);
}

/** A step's evaluated input, shortened for a message; secrets are references there, never values. */
function describeInput(input: Record<string, unknown> | undefined): string {
  const text = JSON.stringify(input ?? {});
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** Every plan a change can come from, with the prefix its steps carry: the run's (''), its children's (`failover.`), at any depth. */
function plansOf(record: Record_, prefix = ''): Array<{ plan: Plan; prefix: string }> {
  return [{ plan: record.plan, prefix }, ...Object.entries(record.children ?? {}).flatMap(([id, child]) => plansOf(child, `${prefix}${id}.`))];
}

/**
 * The failback plan's secret table: the run's own, then each child's. A child's secret whose
 * name the run already uses for another reference gets the child step's prefix, so a revert
 * reads the same secret its original step did.
 */
function secretTable(record: Record_): { secrets: Record<string, PlanSecret>; nameFor(plan: Plan, name: string): string } {
  const secrets: Record<string, PlanSecret> = {};
  const renamed = new Map<Plan, Map<string, string>>();
  for (const { plan, prefix } of plansOf(record)) {
    const names = new Map<string, string>();
    for (const [name, ref] of Object.entries(plan.secrets)) {
      const taken = secrets[name] && JSON.stringify(secrets[name]) !== JSON.stringify(ref);
      const target = taken ? `${prefix}${name}` : name;
      secrets[target] = ref;
      names.set(name, target);
    }
    renamed.set(plan, names);
  }
  return { secrets, nameFor: (plan, name) => renamed.get(plan)?.get(name) ?? name };
}

/** The input with its `$secret` references renamed. */
function renameSecrets(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameSecrets(v, rename));
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === '$secret' && typeof entries[0]![1] === 'string') return { $secret: rename(entries[0]![1]) };
  return Object.fromEntries(entries.map(([k, v]) => [k, renameSecrets(v, rename)]));
}

/**
 * The action a reverting step runs, and where: the original's own, or the one its spec names as
 * reverting it (a promotion's reprotect), on the site that spec reads from the original's `with:`.
 */
function revertedBy(original: PlanStep, originalInput: Record<string, unknown>): Partial<PlanStep> {
  const by = ACTIONS.get(original.uses)?.reverted_by;
  const spec = by && ACTIONS.get(by.uses);
  if (!by || !spec) return {};
  const site = by.site?.(originalInput);
  const where = site ? { site, site_timeout_ms: original.site_timeout_ms ?? DEFAULT_SITE_TIMEOUT_MS } : {};
  return { uses: spec.name, kind: spec.kind, backend: spec.backend, impact: spec.impact, ...where };
}

function revertStep(change: Change, input: Record<string, unknown>, options: FailbackOptions, needs: string[]): PlanStep {
  const { id, step: original } = change;
  const by = revertedBy(original, change.input ?? {});
  const spec = ACTIONS.get(by.uses ?? original.uses);
  const { expect_current: guard, ...unguarded } = input;
  const simulate = spec?.simulates ? 'simulate' : 'skip';
  // The original's `if:` was about the failover; the failback always reverts what it did.
  const { if: _condition, ...rest } = original;
  return {
    ...rest,
    ...by,
    id: `revert-${id}`,
    name: `revert ${id} (${by.uses ? `${original.uses}, by ${by.uses}` : original.uses})`,
    phase: 'main',
    with: options.force || guard === undefined ? unguarded : { ...unguarded, expect_current: guard },
    needs,
    after: [],
    continue_on_error: false,
    execution: options.mode === 'drill' ? simulate : 'run',
  };
}

function manualStep(id: string, original: PlanStep, message: string, options: FailbackOptions, needs: string[]): PlanStep {
  // In a drill nothing is undone, so nobody needs to approve: the work is logged instead.
  const drill = options.mode === 'drill';
  return {
    id: `manual-${id}`,
    name: `manual failback of ${id}`,
    uses: drill ? 'log' : 'approval',
    kind: drill ? 'activity' : 'workflow',
    backend: drill ? 'log' : 'approval',
    impact: 'read',
    phase: 'main',
    with: drill ? { level: 'warn', message } : { message: `${message}; approve once done`, timeout: MANUAL_TIMEOUT, on_timeout: 'reject' },
    needs,
    after: [],
    retry: original.retry,
    timeout_ms: original.timeout_ms,
    ...(drill ? { heartbeat_timeout_ms: original.heartbeat_timeout_ms ?? 30_000 } : {}),
    continue_on_error: false,
    execution: 'run',
    line: original.line,
    col: original.col,
  };
}

/** What the failback does about one change: the step it adds (none when nothing changed) and the line it lists. */
export interface Handling {
  step?: PlanStep;
  action: FailbackItem['action'];
  detail: string;
  resource?: string;
  steps?: string[];
}

/** Builds a change's reverting step (its secrets renamed into the failback's table) or its manual one. */
export type Builder = { revert(with_: Record<string, unknown>): PlanStep; manual(message: string): PlanStep };

function restoreHandling(change: Change, target: string, build: Builder): Handling {
  const { state, input } = change;
  const point = String(
    state.outputs?.restore_point_id ?? (typeof input?.restore_point === 'string' ? input.restore_point : JSON.stringify(input?.restore_point)),
  );
  const how = state.status === 'succeeded' ? 'restored' : `${state.status === 'cancelled' ? 'was cancelled' : 'failed'} restoring`;
  const message = `step "${change.id}" (${change.step.uses}) ${how} ${point} into production target ${target}: cannot be undone automatically; check it`;
  return { step: build.manual(message), action: 'manual', detail: `${how} ${point} into production target ${target}: cannot be undone automatically` };
}

function succeededHandling(change: Change, options: FailbackOptions, build: Builder): Handling {
  const { id, step, input } = change;
  const outputs = change.state.outputs ?? {};
  if (outputs.changed === false) return { action: 'unchanged', detail: 'the step found its target already in place and changed nothing' };
  const nothing = input ? ACTIONS.get(step.uses)?.nothing_to_revert?.(input, outputs) : undefined;
  if (nothing) return { action: 'unchanged', detail: nothing };
  const reverted = input ? ACTIONS.get(step.uses)?.revert?.(input, outputs) : undefined;
  if (reverted) {
    const guard = options.force ? ' (--force: unguarded)' : ', guarded by the state the run set';
    return { step: build.revert(reverted), action: 'revert', detail: `back to the recorded previous state${guard}` };
  }
  const message = `undo "${id}" (${step.uses}) by hand — it changed ${describeInput(input)} and cannot be reverted automatically`;
  const detail = ACTIONS.get(step.uses)?.revert
    ? 'its outputs say nothing to put back automatically (e.g. a record it created)'
    : `${step.uses} cannot revert; a person undoes it behind an approval`;
  return { step: build.manual(message), action: 'manual', detail };
}

/**
 * A step that failed or was cancelled has no outputs, and may still have written before it
 * stopped (a DNS record set, then its verification timed out). What it found and what it was
 * setting come from the action itself: its failure details' `partial`, which the worker
 * recorded in the history with secrets masked — the same source and trust as a succeeded
 * step's outputs, never the current state read back now (that may hold someone else's
 * change). The revert goes back to what the step found, guarded by what it was setting: at
 * the old state already, the action changes nothing (it is idempotent); at the target, it
 * reverts; at anything else, the guard refuses. Without that account, a person checks.
 */
function failedHandling(change: Change, options: FailbackOptions, build: Builder): Handling {
  const { id, step, input, partial } = change;
  const how = change.state.status === 'cancelled' ? 'was cancelled' : 'failed';
  // A step the interpreter runs itself (a traffic shift) reports what it did so far as its outputs, failed or not.
  if (ACTIONS.get(step.uses)?.kind === 'workflow' && change.state.outputs) return succeededHandling(change, options, build);
  if (partial?.changed === false) return { action: 'unchanged', detail: `it ${how} before it changed anything` };
  const known = partial && partial.previous !== undefined && partial.target !== undefined;
  const outputs = known ? { previous: partial.previous, current: partial.target, changed: true, simulated: false } : undefined;
  const reverted = input && outputs ? ACTIONS.get(step.uses)?.revert?.(input, outputs) : undefined;
  const what = describeInput(input);
  if (reverted) {
    const guard = options.force ? ' (--force: unguarded, whatever it holds now)' : ' where it still holds what the step was setting';
    return { step: build.revert(reverted), action: 'revert', detail: `it ${how} after it may have changed ${what}; back to the state it found${guard}` };
  }
  const message = `step "${id}" (${step.uses}) ${how} after it may have changed ${what}; check it`;
  return {
    step: build.manual(message),
    action: 'manual',
    detail: `it ${how} after it may have changed it, and recorded no state to go back to; a person checks it`,
  };
}

/** The failback's steps and what each change of the run becomes; each step needs the one before, so a conflict stops the rest. */
function failbackSteps(record: Record_, options: FailbackOptions): { steps: PlanStep[]; items: FailbackItem[]; secrets: Record<string, PlanSecret> } {
  const steps: PlanStep[] = [];
  const items: FailbackItem[] = [];
  const table = secretTable(record);
  const all = changes(record);
  // Several changes of one resource are reverted once, by their net change, where the newest of them is.
  const { nets, absorbed } = netsOf(all, (c) => restoredOver(c) === undefined);
  for (const change of all.filter((c) => !absorbed.has(c))) {
    const { id, step, state } = change;
    const needs = steps.length ? [steps.at(-1)!.id] : [];
    const build: Builder = {
      revert: (with_) => revertStep(change, renameSecrets(with_, (name) => table.nameFor(change.plan, name)) as Record<string, unknown>, options, needs),
      manual: (message) => manualStep(id, step, message, options, needs),
    };
    const restored = restoredOver(change);
    const net = nets.get(change);
    const handling = net
      ? netHandling(net, options, build)
      : restored !== undefined
        ? restoreHandling(change, restored, build)
        : state.status === 'succeeded'
          ? succeededHandling(change, options, build)
          : failedHandling(change, options, build);
    if (handling.step) steps.push(handling.step);
    items.push({
      step: id,
      uses: step.uses,
      ...(state.ended_at ? { ended_at: state.ended_at } : {}),
      action: handling.action,
      ...(handling.step ? { failback_step: handling.step.id } : {}),
      detail: handling.detail,
      ...(handling.resource ? { resource: handling.resource, steps: handling.steps } : {}),
    });
  }
  return { steps, items, secrets: table.secrets };
}

/**
 * The failback of a finished run: what it changed, undone newest first. The result is an
 * ordinary Plan — run like any other, durable and visible in `status`.
 */
export function buildFailback(record: Record_, options: FailbackOptions): Failback {
  const { plan, status, workflowId } = record;
  if (status.state === 'running') throw new FailbackError(`${workflowId} is still running; fail back once it has finished (or cancel it)`);
  if (plan.mode === 'drill') throw new FailbackError(`${workflowId} was a drill: it changed nothing, so there is nothing to fail back`);
  const { steps, items, secrets } = failbackSteps(record, options);
  // A revert may run on a site its original did not (a reprotect, on the old primary's).
  const sites = [...new Set([...plansOf(record).flatMap(({ plan: p }) => p.sites ?? []), ...steps.flatMap((s) => (s.site ? [s.site] : []))])];
  const body: Omit<Plan, 'hash'> = {
    version: plan.version,
    name: `${plan.name}-failback`,
    description: `Failback of ${workflowId}: what it changed, reverted newest first`,
    labels: { ...plan.labels, failback_of: workflowId },
    source: `failback of ${workflowId} (${plan.source})`,
    mode: options.mode,
    objectives: {},
    parameters: {},
    secrets,
    triggers: { manual: true },
    ...(sites.length ? { sites } : {}),
    steps,
    on_failure: [],
    finally: [],
    children: {},
    // The same people hear of the failback, and its success resolves the incident the run's failure opened.
    ...(plan.notify ? { notify: notificationsFor(plan.notify, options.mode) } : {}),
  };
  return { plan: { ...body, hash: hashPlan(body) }, items };
}

/** The run's spec.notify steps, marked as a drill's when the failback is rehearsed. */
function notificationsFor(notify: NonNullable<Plan['notify']>, mode: Plan['mode']): NonNullable<Plan['notify']> {
  return Object.fromEntries(Object.entries(notify).map(([event, step]) => [event, { ...step, with: { ...step.with, drill: mode === 'drill' } }]));
}

/** The lines `rebound plan --failback` prints above the plan: every change and what becomes of it. */
export function describeFailback(failback: Failback, workflowId: string): string {
  if (!failback.items.length) return `${workflowId} made no production change: nothing to fail back`;
  const lines = [`${workflowId} changed, newest first:`];
  for (const item of failback.items) {
    const by = item.failback_step ? ` → ${item.failback_step}` : '';
    const what = item.steps && item.steps.length > 1 ? `${item.steps.join(' + ')} (${item.uses}, net per resource` : `${item.step} (${item.uses}`;
    lines.push(`  ${what}${item.ended_at ? `, ${item.ended_at}` : ''}): ${item.action}${by} — ${item.detail}`);
  }
  // A run that already failed back (its changes cancel out) leaves nothing to do: say why the plan is empty.
  if (!failback.plan.steps.length && failback.items.some((i) => i.action === 'restored'))
    lines.push(`nothing to fail back: every resource ${workflowId} changed is back where it found it, or unchanged`);
  return lines.join('\n');
}
