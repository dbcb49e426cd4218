// Compiles `for_each:` — a step, or a group of steps, run once per item of a list — checking its items, parallel limit and group steps, every error located.
import { ACTIONS } from '../contract/actions/registry.ts';
import { scanTemplate } from '../contract/expression.ts';
import { GROUP_USES, MAX_ITERATIONS } from '../contract/for-each.ts';
import type { PlanStep } from '../contract/plan.ts';
import { CompileError } from './errors.ts';
import type { LoopShape, ReferenceScope } from './references.ts';
import { withAnalysis } from './shift.ts';
import { compileStep, declaredOutputs, scopeOf, type PhaseScope } from './step.ts';
import type { ParsedStep, StepContext } from './step-context.ts';
import { orderSteps } from './step-order.ts';
import { didYouMean } from './suggest.ts';
import { checkTemplates } from './templates.ts';

/** Actions that make no sense once per item: one approval covers the loop; a child runbook's run id is its step's. */
const NOT_PER_ITEM: Record<string, string> = {
  approval: 'put one approval before the for_each: it covers every item',
  runbook: 'a child runbook runs once per step; give the child runbook the list as a parameter and loop inside it',
};

/** Fields a group does not take: its steps do. */
const NOT_ON_GROUPS = ['with', 'retry', 'timeout', 'heartbeat_timeout', 'site', 'site_timeout', 'drill', 'analysis'] as const;

const IMPACT_ORDER: PlanStep['impact'][] = ['read', 'write', 'production'];

/** What references need of a for_each step: its group's steps and their outputs. */
export function loopShape({ doc }: ParsedStep): LoopShape | undefined {
  if (doc.for_each === undefined) return undefined;
  if (!doc.steps) return {};
  return { children: new Map(doc.steps.map((c) => [c.id, declaredOutputs(ACTIONS.get(c.uses))])) };
}

/** Checks how a step combines uses, steps, for_each and parallel; false when it cannot be compiled. */
export function checkLoopFields({ doc, path }: ParsedStep, ctx: StepContext): boolean {
  const fail = (message: string, field?: string): false => {
    ctx.errors.push(
      new CompileError('schema', `step "${doc.id}": ${message}`, ctx.source.locate(field ? [...path, field] : path, { key: field === 'parallel' })),
    );
    return false;
  };
  if (doc.steps && doc.uses !== undefined) return fail('give uses: (an action) or steps: (a for_each group), not both', 'uses');
  if (!doc.steps && doc.uses === undefined) return fail('missing required field "uses" (the action it runs; or steps: with for_each, a group)');
  if (doc.parallel !== undefined && doc.for_each === undefined)
    return fail('parallel: says how many for_each iterations run at once; add for_each: or remove it', 'parallel');
  if (doc.steps && doc.for_each === undefined) {
    return fail('steps: is a group that runs once per item of for_each:; add for_each:, or list these steps in the phase itself', 'steps');
  }
  for (const field of doc.steps ? NOT_ON_GROUPS : [])
    if (doc[field] !== undefined) return fail(`a for_each group takes no ${field}:; set it on its steps`, field);
  if (doc.uses !== undefined && doc.for_each !== undefined && NOT_PER_ITEM[doc.uses]) {
    return fail(`${doc.uses} cannot run once per item: ${NOT_PER_ITEM[doc.uses]}`, 'for_each');
  }
  return true;
}

/** The items: a non-empty literal list, or one `${{ }}` expression (which cannot read item or index: it makes them). */
function checkItems(step: ParsedStep, scope: ReferenceScope, ctx: StepContext): unknown[] | string {
  const { doc, path } = step;
  const at = [...path, 'for_each'];
  const items = doc.for_each!;
  const what = `step "${doc.id}" for_each`;
  const outer = { ...scope, loop: false };
  const fail = (message: string) => ctx.errors.push(new CompileError('schema', `${what}: ${message}`, ctx.source.locate(at)));
  if (Array.isArray(items)) {
    if (!items.length) fail('an empty list runs nothing; give at least one item');
    if (items.length > MAX_ITERATIONS) fail(`${items.length} items; a for_each runs at most ${MAX_ITERATIONS}`);
    return checkTemplates(items, at, outer, ctx, what) as unknown[];
  }
  const segments = scanTemplate(items.trim());
  if (segments.length !== 1 || segments[0]!.kind !== 'expr') {
    fail(`"${items}" is not a list; write a list ([a, b]) or one \${{ }} expression that gives one (e.g. \${{ params.regions.split(',') }})`);
    return items;
  }
  return checkTemplates(items, at, outer, ctx, what) as string;
}

/** A `name:` may read item and index in a loop; checked like any template. */
function loopName(step: ParsedStep, scope: ReferenceScope, ctx: StepContext): { name?: string } {
  const { doc, path } = step;
  if (doc.name === undefined) return {};
  return { name: checkTemplates(doc.name, [...path, 'name'], scope, ctx, `step "${doc.id}" name`) as string };
}

/** Adds the compiled for_each to a step that runs its own action once per item; other steps pass through. */
export function withLoop(planned: PlanStep, step: ParsedStep, phase: PhaseScope): PlanStep {
  if (step.doc.for_each === undefined) return planned;
  const scope = scopeOf(step.doc, phase);
  const items = checkItems(step, scope, phase.ctx);
  return { ...planned, ...loopName(step, scope, phase.ctx), for_each: { items, parallel: step.doc.parallel ?? 1 } };
}

/** A group's steps, parsed like a phase's: unique ids (in the whole runbook), known actions, none that cannot run per item. */
function parseChildren(step: ParsedStep, ids: Set<string>, ctx: StepContext): ParsedStep[] {
  const parsed: ParsedStep[] = [];
  (step.doc.steps ?? []).forEach((doc, j) => {
    const path = [...step.path, 'steps', j];
    const where = `step "${step.doc.id}" group step "${doc.id}"`;
    if (ids.has(doc.id)) {
      ctx.errors.push(
        new CompileError(
          'duplicate_step',
          `duplicate step id "${doc.id}"; step ids must be unique in a runbook, group steps too`,
          ctx.source.locate([...path, 'id']),
        ),
      );
      return;
    }
    ids.add(doc.id);
    const spec = ACTIONS.get(doc.uses);
    const at = ctx.source.locate([...path, 'uses']);
    if (!spec) ctx.errors.push(new CompileError('unknown_action', `${where}: unknown action "${doc.uses}"${didYouMean(doc.uses, ACTIONS.keys())}`, at));
    else if (NOT_PER_ITEM[spec.name]) {
      ctx.errors.push(new CompileError('schema', `${where}: ${spec.name} cannot run once per item: ${NOT_PER_ITEM[spec.name]}`, at));
      return;
    }
    parsed.push({ doc, path, ...(spec ? { spec } : {}) });
  });
  return parsed;
}

/**
 * A for_each group: its steps are compiled as a phase of their own (needs among themselves, the
 * step above otherwise) that may read what the group may, its earlier steps, and item and index.
 */
export function compileGroup(step: ParsedStep, phase: PhaseScope, ids: Set<string>): PlanStep {
  const { ctx } = phase;
  const outer = scopeOf(step.doc, phase);
  const parsed = parseChildren(step, ids, ctx);
  const allIds = new Set([...phase.allIds, ...parsed.map((c) => c.doc.id)]);
  const outputsOf = new Map([...phase.outputsOf, ...parsed.map((c) => [c.doc.id, declaredOutputs(c.spec)] as const)]);
  const inner: PhaseScope = {
    ...phase,
    order: orderSteps(parsed, allIds, ctx),
    earlier: new Set([...phase.allIds].filter((id) => outer.visible(id))),
    allIds,
    outputsOf,
    inLoop: true,
  };
  const steps = parsed.map((child) => {
    const compiled = withAnalysis(compileStep(child, inner), child, inner);
    return { ...compiled, ...loopName(child, scopeOf(child.doc, inner), ctx) };
  });
  const { site: _site, site_timeout_ms: _timeout, heartbeat_timeout_ms: _heartbeat, ...base } = compileStep(step, phase);
  const impact = IMPACT_ORDER[Math.max(0, ...steps.map((s) => IMPACT_ORDER.indexOf(s.impact)))]!;
  const items = step.doc.for_each === undefined ? [] : checkItems(step, outer, ctx);
  return {
    ...base,
    ...loopName(step, outer, ctx),
    uses: GROUP_USES,
    kind: 'workflow',
    backend: GROUP_USES,
    impact,
    for_each: { items, parallel: step.doc.parallel ?? 1, steps },
  };
}
