import { ACTIONS } from '../contract/actions/registry.ts';
import type { ActionSpec } from '../contract/action.ts';
import { parseDuration } from '../contract/duration.ts';
import { CompileError } from './errors.ts';
import { hasTemplate, rewriteHyphenatedNames, scanTemplate, secretReference, unwrapCondition } from '../contract/expression.ts';
import { findCycle, precedes } from './graph.ts';
import { checkInput, mergeWith } from './inputs.ts';
import { issuesToErrors } from './issues.ts';
import type { Execution, Mode, Phase, PlanStep } from '../contract/plan.ts';
import { checkExpression, type ReferenceScope } from './references.ts';
import { StepSchema, type StepDocument } from './schema.ts';
import type { RunbookSource } from './source.ts';
import { didYouMean } from './suggest.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Activities heartbeat on their own (see activities/runtime/wrap.ts), so a worker that
 * dies mid-step is noticed after this long rather than after the step's whole timeout. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY = { maximum_attempts: 3, initial_interval_ms: 1000, backoff: 2, maximum_interval_ms: 60_000 };

export interface StepContext {
  source: RunbookSource;
  mode: Mode;
  params: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  errors: CompileError[];
  /** Compiles a child runbook; returns its plan key, or undefined after reporting errors. */
  child(path: string, at: ReadonlyArray<PropertyKey>): string | undefined;
}

interface Parsed {
  doc: StepDocument;
  path: (string | number)[];
  spec?: ActionSpec;
}

/** Outputs each step's action declares, for checking `steps.x.outputs.y`. */
function declaredOutputs(spec: ActionSpec | undefined): string[] | undefined {
  const def = (spec?.output as { def?: { type: string; shape?: object } } | undefined)?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function execution(step: Parsed, ctx: StepContext): { execution: Execution; overrides?: Record<string, unknown> } {
  const { doc, spec, path } = step;
  if (ctx.mode === 'run' || !spec) return { execution: 'run' };
  const drill = doc.drill;
  const fail = (message: string): { execution: Execution } => {
    ctx.errors.push(new CompileError('drill', `step "${doc.id}" (${spec.name}): ${message}`, ctx.source.locate([...path, doc.drill ? 'drill' : 'uses'])));
    return { execution: 'skip' };
  };
  if (drill === 'skip') return { execution: 'skip' };
  if (typeof drill === 'object') {
    const targets = spec.drill_targets ?? [];
    if (spec.impact !== 'read' && targets.length && !targets.some((t) => t in drill.with)) {
      return fail(`drill overrides must replace where the change lands (${targets.join(' or ')}); otherwise the drill would touch production`);
    }
    return { execution: 'run', overrides: drill.with };
  }
  if (drill === 'simulate') {
    return spec.simulates ? { execution: 'simulate' } : fail(`${spec.name} cannot report a change without making it; use drill: skip, or drill: {with: {…}} scratch targets`);
  }
  if (drill === 'run') {
    return spec.impact === 'production'
      ? fail('a drill would touch production; give drill-safe targets with drill: {with: {…}}, or drill: simulate')
      : { execution: 'run' };
  }
  if (spec.impact === 'production' && spec.simulates) return { execution: 'simulate' };
  if (spec.impact !== 'read') {
    const targets = spec.drill_targets?.length ? ` (${spec.drill_targets.join(', ')})` : '';
    return fail(`a drill must not write to the targets of a real run; give drill: {with: {…}} scratch targets${targets}${spec.simulates ? ', or drill: simulate' : ''}, or drill: skip`);
  }
  return { execution: 'run' };
}

function checkTemplates(value: unknown, path: (string | number)[], scope: ReferenceScope, ctx: StepContext, what: string): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const textOffset = ctx.source.scalarTextOffset(path);
    let rewritten = '';
    for (const segment of scanTemplate(value)) {
      if (segment.kind === 'text') {
        rewritten += segment.value;
        continue;
      }
      const { source, problems } = checkExpression(segment.value, scope);
      rewritten += '${{ ' + source + ' }}';
      for (const problem of problems) {
        const location = ctx.source.locate(path, { offset: textOffset === undefined ? 0 : textOffset + segment.offset });
        ctx.errors.push(new CompileError('expression', `${what}: ${problem}`, location));
      }
    }
    return rewritten;
  }
  if (Array.isArray(value)) return value.map((v, i) => checkTemplates(v, [...path, i], scope, ctx, what));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = checkTemplates(v, [...path, k], scope, ctx, what);
    return out;
  }
  return value;
}

const pick = ({ line, col }: { line: number; col: number }) => ({ line, col });

function retryOf(doc: StepDocument): PlanStep['retry'] {
  const r = doc.retry ?? {};
  const initial = (r.initial_interval && parseDuration(r.initial_interval)) || DEFAULT_RETRY.initial_interval_ms;
  return {
    maximum_attempts: r.max_attempts ?? DEFAULT_RETRY.maximum_attempts,
    initial_interval_ms: initial,
    backoff: r.backoff ?? DEFAULT_RETRY.backoff,
    // Temporal rejects a maximum below the initial interval; the default grows to fit.
    maximum_interval_ms: (r.max_interval && parseDuration(r.max_interval)) || Math.max(DEFAULT_RETRY.maximum_interval_ms, initial),
    non_retryable: r.non_retryable ?? [],
  };
}

/**
 * Compiles one phase's step list (main, on_failure or finally). `earlier` holds the steps
 * of phases that have finished before this one runs, which its expressions may read.
 */
export function compileSteps(
  raw: unknown,
  base: (string | number)[],
  phase: Phase,
  ctx: StepContext,
  ids: Set<string>,
  allIds: ReadonlySet<string>,
  earlier: ReadonlySet<string>,
  outputsOf: Map<string, readonly string[] | undefined>,
): PlanStep[] {
  if (!Array.isArray(raw)) return [];
  const parsed: Parsed[] = [];
  raw.forEach((item, index) => {
    const path = [...base, index];
    const result = StepSchema.safeParse(item);
    if (!result.success) {
      ctx.errors.push(...issuesToErrors(ctx.source, result.error.issues, path, 'schema', `step ${index + 1}`, StepSchema));
      return;
    }
    const doc = result.data;
    if (ids.has(doc.id)) {
      ctx.errors.push(new CompileError('duplicate_step', `duplicate step id "${doc.id}"; step ids must be unique in a runbook`, ctx.source.locate([...path, 'id'])));
      return;
    }
    ids.add(doc.id);
    const spec = ACTIONS.get(doc.uses);
    if (!spec) {
      ctx.errors.push(new CompileError('unknown_action', `step "${doc.id}": unknown action "${doc.uses}"${didYouMean(doc.uses, ACTIONS.keys())}`, ctx.source.locate([...path, 'uses'])));
    }
    parsed.push({ doc, path, spec });
  });

  // Edges: explicit needs, or else the step above (an order-only edge).
  const local = new Set(parsed.map((p) => p.doc.id));
  const edges = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  parsed.forEach(({ doc, path }, i) => {
    if (doc.needs) {
      const known: string[] = [];
      doc.needs.forEach((need, j) => {
        if (local.has(need)) known.push(need);
        else {
          const elsewhere = allIds.has(need) ? `; "${need}" is in another phase, and needs only name steps of the same list` : didYouMean(need, local);
          ctx.errors.push(new CompileError('unknown_need', `step "${doc.id}" needs unknown step "${need}"${elsewhere}`, ctx.source.locate([...path, 'needs', j])));
        }
      });
      edges.set(doc.id, known);
      after.set(doc.id, []);
    } else {
      const previous = i > 0 ? [parsed[i - 1]!.doc.id] : [];
      edges.set(doc.id, previous);
      after.set(doc.id, previous);
    }
  });
  const cycle = findCycle(edges);
  if (cycle) {
    const first = parsed.find((p) => p.doc.id === cycle[0])!;
    ctx.errors.push(new CompileError('cycle', `steps form a cycle: ${cycle.join(' → ')}; remove one of these needs`, ctx.source.locate([...first.path, 'needs'])));
  }

  for (const p of parsed) outputsOf.set(p.doc.id, declaredOutputs(p.spec));
  return parsed.map(({ doc, path, spec }) => {
    const scope: ReferenceScope = {
      params: ctx.params,
      secrets: ctx.secrets,
      all: allIds,
      allowSecrets: true,
      visible: (id) => earlier.has(id) || (!cycle && local.has(id) && precedes(id, doc.id, edges)),
      outputs: (id) => outputsOf.get(id),
    };
    const what = `step "${doc.id}"`;

    const retry = retryOf(doc);
    if (retry.maximum_interval_ms !== undefined && retry.maximum_interval_ms < retry.initial_interval_ms) {
      ctx.errors.push(new CompileError('schema', `${what} retry: max_interval is shorter than initial_interval; Temporal would refuse it`, ctx.source.locate([...path, 'retry', 'max_interval'])));
    }

    let condition: string | undefined;
    if (doc.if !== undefined) {
      const { source, problems } = checkExpression(unwrapCondition(doc.if), { ...scope, allowSecrets: false });
      condition = source;
      for (const problem of problems) ctx.errors.push(new CompileError('expression', `${what} if: ${problem}`, ctx.source.locate([...path, 'if'])));
    }

    const mode = execution({ doc, path, spec }, ctx);
    const merged = mergeWith(doc.with ?? {}, mode.overrides);
    for (const field of spec?.secret_inputs ?? []) {
      const value = field.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), merged);
      const segments = typeof value === 'string' ? scanTemplate(value) : [];
      const isSecret = segments.length === 1 && segments[0]!.kind === 'expr' && secretReference(rewriteHyphenatedNames(segments[0]!.value)) !== undefined;
      if (value !== undefined && !isSecret) {
        const top = field.split('.')[0]!;
        const at = mode.overrides && top in mode.overrides ? [...path, 'drill', 'with', ...field.split('.')] : [...path, 'with', ...field.split('.')];
        ctx.errors.push(new CompileError('action_input', `${what} (${spec!.name}) with: ${field} carries credentials; give it as "\${{ secrets.NAME }}" and declare NAME under spec.secrets`, ctx.source.locate(at)));
      }
    }
    if (spec) {
      const issues = checkInput(spec.input, merged);
      ctx.errors.push(...issuesToErrors(ctx.source, issues, [...path, 'with'], 'action_input', `${what} (${spec.name}) with`, spec.input));
    }
    const rendered = checkTemplates(doc.with ?? {}, [...path, 'with'], scope, ctx, `${what} with`) as Record<string, unknown>;
    const overrides = mode.overrides && (checkTemplates(mode.overrides, [...path, 'drill', 'with'], scope, ctx, `${what} drill.with`) as Record<string, unknown>);

    let child: string | undefined;
    if (spec?.name === 'runbook' && typeof doc.with?.path === 'string' && !hasTemplate(doc.with.path)) {
      child = ctx.child(doc.with.path, [...path, 'with', 'path']);
    } else if (spec?.name === 'runbook') {
      ctx.errors.push(new CompileError('child_runbook', `${what}: with.path must be a literal path to a runbook file`, ctx.source.locate([...path, 'with'])));
    }

    return {
      id: doc.id,
      ...(doc.name ? { name: doc.name } : {}),
      uses: doc.uses,
      kind: spec?.kind ?? 'activity',
      backend: spec?.backend ?? 'unknown',
      impact: spec?.impact ?? 'read',
      phase,
      with: mergeWith(rendered, overrides),
      needs: doc.needs ? [...edges.get(doc.id)!] : [],
      after: after.get(doc.id) ?? [],
      ...(condition !== undefined ? { if: condition } : {}),
      retry,
      timeout_ms: (doc.timeout && parseDuration(doc.timeout)) || DEFAULT_TIMEOUT_MS,
      ...(spec?.kind !== 'workflow' ? { heartbeat_timeout_ms: (doc.heartbeat_timeout && parseDuration(doc.heartbeat_timeout)) || DEFAULT_HEARTBEAT_TIMEOUT_MS } : {}),
      continue_on_error: doc.continue_on_error ?? false,
      execution: mode.execution,
      ...(child ? { child } : {}),
      ...pick(ctx.source.locate(path)),
    };
  });
}
