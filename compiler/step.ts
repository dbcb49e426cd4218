// Compiles one step: its scope of names, retry, `if`, drill execution, inputs and templates.
import type { ActionSpec } from '../contract/action.ts';
import { parseDuration } from '../contract/duration.ts';
import { FAILURE_CODES, isFailureCode, nonRetryableTypes, replacementOf } from '../contract/failures.ts';
import { hasTemplate, rewriteHyphenatedNames, scanTemplate, secretReference, unwrapCondition } from '../contract/expression.ts';
import type { Phase, PlanStep } from '../contract/plan.ts';
import { notifyInput } from './channels.ts';
import { checkSecretDestinations } from './destinations.ts';
import { execution } from './drill.ts';
import { CompileError, CompileWarning } from './errors.ts';
import { precedes } from './graph.ts';
import { deferExpressions } from './deferred.ts';
import { checkInput, mergeWith } from './inputs.ts';
import { stepSite } from './sites.ts';
import { issuesToErrors } from './issues.ts';
import { didYouMean } from './suggest.ts';
import { checkExpression, type LoopShape, type ReferenceScope } from './references.ts';
import { GROUP_USES } from '../contract/for-each.ts';
import type { StepDocument } from './schema.ts';
import type { ParsedStep, StepContext } from './step-context.ts';
import type { StepOrder } from './step-order.ts';
import { checkTemplates } from './templates.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Activities heartbeat on their own (see activities/runtime/wrap.ts), so a worker that
 * dies mid-step is noticed after this long rather than after the step's whole timeout. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY = { maximum_attempts: 3, initial_interval_ms: 1000, backoff: 2, maximum_interval_ms: 60_000 };

/** Outputs each step's action declares, for checking `steps.x.outputs.y`. */
export function declaredOutputs(spec: ActionSpec | undefined): string[] | undefined {
  const def = (spec?.output as { def?: { type: string; shape?: object } } | undefined)?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function retryOf(doc: StepDocument): PlanStep['retry'] {
  const r = doc.retry ?? {};
  const initial = (r.initial_interval && parseDuration(r.initial_interval)) || DEFAULT_RETRY.initial_interval_ms;
  return {
    maximum_attempts: r.max_attempts ?? DEFAULT_RETRY.maximum_attempts,
    initial_interval_ms: initial,
    backoff: r.backoff ?? DEFAULT_RETRY.backoff,
    // Temporal rejects a maximum below the initial interval; the default grows to fit.
    maximum_interval_ms: (r.max_interval && parseDuration(r.max_interval)) || Math.max(DEFAULT_RETRY.maximum_interval_ms, initial),
    // An older failure name also lists the code that replaced it, so it still matches.
    non_retryable: nonRetryableTypes(r.non_retryable ?? []),
  };
}

const pick = ({ line, col }: { line: number; col: number }) => ({ line, col });

/** What one step of a phase is compiled against. */
export interface PhaseScope {
  ctx: StepContext;
  phase: Phase;
  order: StepOrder;
  earlier: ReadonlySet<string>;
  allIds: ReadonlySet<string>;
  outputsOf: ReadonlyMap<string, readonly string[] | undefined>;
  /** The runbook's for_each steps (compiler/for-each.ts), for `steps.x[i]`. */
  loops?: ReadonlyMap<string, LoopShape>;
  /** Compiling a for_each group's steps: `item` and `index` can be read. */
  inLoop?: boolean;
}

/** Fields that carry credentials must be exactly `${{ secrets.NAME }}`, never a literal. */
function checkSecretInputs(
  { doc, path, spec }: ParsedStep,
  merged: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
  ctx: StepContext,
): void {
  for (const field of spec?.secret_inputs ?? []) {
    const value = field.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), merged);
    const segments = typeof value === 'string' ? scanTemplate(value) : [];
    const isSecret = segments.length === 1 && segments[0]!.kind === 'expr' && secretReference(rewriteHyphenatedNames(segments[0]!.value)) !== undefined;
    if (value === undefined || isSecret) continue;
    const top = field.split('.')[0]!;
    const at = overrides && top in overrides ? [...path, 'drill', 'with', ...field.split('.')] : [...path, 'with', ...field.split('.')];
    ctx.errors.push(
      new CompileError(
        'action_input',
        `step "${doc.id}" (${spec!.name}) with: ${field} carries credentials; give it as "\${{ secrets.NAME }}" and declare NAME under spec.secrets`,
        ctx.source.locate(at),
      ),
    );
  }
}

function checkRetry(doc: StepDocument, path: (string | number)[], ctx: StepContext): PlanStep['retry'] {
  const retry = retryOf(doc);
  if (retry.maximum_interval_ms !== undefined && retry.maximum_interval_ms < retry.initial_interval_ms) {
    ctx.errors.push(
      new CompileError(
        'schema',
        `step "${doc.id}" retry: max_interval is shorter than initial_interval; Temporal would refuse it`,
        ctx.source.locate([...path, 'retry', 'max_interval']),
      ),
    );
  }
  checkFailureNames(doc, path, ctx);
  return retry;
}

/** `non_retryable` names catalog codes (contract/failures.ts); an older name still works, with a warning naming its code. */
function checkFailureNames(doc: StepDocument, path: (string | number)[], ctx: StepContext): void {
  (doc.retry?.non_retryable ?? []).forEach((name, i) => {
    if (isFailureCode(name)) return;
    const at = ctx.source.locate([...path, 'retry', 'non_retryable', i]);
    const replacement = replacementOf(name);
    if (replacement)
      ctx.warnings.push(
        new CompileWarning(
          'failure_code',
          `step "${doc.id}" retry.non_retryable: "${name}" is an older failure name; write "${replacement}" (docs/failure-codes.md)`,
          at,
        ),
      );
    else
      ctx.errors.push(
        new CompileError(
          'failure_code',
          `step "${doc.id}" retry.non_retryable: "${name}" is not a failure code${didYouMean(name, Object.keys(FAILURE_CODES))} (the catalog, docs/failure-codes.md: ${Object.keys(FAILURE_CODES).join(', ')})`,
          at,
        ),
      );
  });
}

function checkCondition(doc: StepDocument, path: (string | number)[], scope: ReferenceScope, ctx: StepContext): string | undefined {
  if (doc.if === undefined) return undefined;
  const { source, problems } = checkExpression(unwrapCondition(doc.if), { ...scope, allowSecrets: false });
  for (const problem of problems) ctx.errors.push(new CompileError('expression', `step "${doc.id}" if: ${problem}`, ctx.source.locate([...path, 'if'])));
  return source;
}

/** `uses: runbook` compiles the child into the parent's plan, so its path must be literal. */
function childOf({ doc, path, spec }: ParsedStep, ctx: StepContext): string | undefined {
  if (spec?.name !== 'runbook') return undefined;
  if (typeof doc.with?.path === 'string' && !hasTemplate(doc.with.path)) return ctx.child(doc.with.path, [...path, 'with', 'path']);
  ctx.errors.push(
    new CompileError('child_runbook', `step "${doc.id}": with.path must be a literal path to a runbook file`, ctx.source.locate([...path, 'with'])),
  );
  return undefined;
}

export function scopeOf(doc: StepDocument, phase: PhaseScope): ReferenceScope {
  const { ctx, order, earlier } = phase;
  return {
    params: ctx.params,
    secrets: ctx.secrets,
    all: phase.allIds,
    allowSecrets: true,
    visible: (id) => earlier.has(id) || (!order.cycle && order.local.has(id) && precedes(id, doc.id, order.edges)),
    outputs: (id) => phase.outputsOf.get(id),
    ...(phase.loops ? { loops: phase.loops } : {}),
    ...(phase.inLoop || doc.for_each !== undefined ? { loop: true } : {}),
  };
}

export function compileStep(step: ParsedStep, phase: PhaseScope): PlanStep {
  const { doc, path, spec } = step;
  const { ctx, order } = phase;
  const scope = scopeOf(doc, phase);
  const what = `step "${doc.id}"`;
  const retry = checkRetry(doc, path, ctx);
  const condition = checkCondition(doc, path, scope, ctx);
  const mode = execution(step, ctx);
  const merged = mergeWith(doc.with ?? {}, mode.overrides);
  checkSecretInputs(step, merged, mode.overrides, ctx);
  checkSecretDestinations(step, merged, ctx);
  // A notify step names channels; the action receives them (their secrets were checked in spec.channels).
  const notifying = spec?.name === 'notify' ? notifyInput(`step "${doc.id}" (notify) with.`, [...path, 'with'], merged, ctx) : undefined;
  if (spec) {
    const issues = checkInput(spec.input, notifying?.check ?? merged).filter((i) => !(notifying?.broken && i.path[0] === 'channels'));
    ctx.errors.push(...issuesToErrors(ctx.source, issues, [...path, 'with'], 'action_input', `${what} (${spec.name}) with`, spec.input));
  }
  // Fields the action evaluates on the worker are checked and stored bare first, so the run's templates skip them.
  const templates = (value: Record<string, unknown>, at: (string | number)[], where: string) =>
    checkTemplates(deferExpressions(spec, value, at, ctx, where), at, scope, ctx, where) as Record<string, unknown>;
  const rendered = templates(doc.with ?? {}, [...path, 'with'], `${what} with`);
  const overrides = mode.overrides && templates(mode.overrides, [...path, 'drill', 'with'], `${what} drill.with`);
  const planned = mergeWith(rendered, overrides);
  const child = childOf(step, ctx);
  return {
    id: doc.id,
    ...(doc.name ? { name: doc.name } : {}),
    uses: doc.uses ?? GROUP_USES,
    kind: spec?.kind ?? 'activity',
    backend: spec?.backend ?? 'unknown',
    impact: spec?.impact ?? 'read',
    phase: phase.phase,
    with: notifying ? notifying.plan(planned) : planned,
    needs: doc.needs ? [...order.edges.get(doc.id)!] : [],
    after: order.after.get(doc.id) ?? [],
    ...(condition !== undefined ? { if: condition } : {}),
    retry,
    timeout_ms: (doc.timeout && parseDuration(doc.timeout)) || DEFAULT_TIMEOUT_MS,
    ...(spec?.kind !== 'workflow'
      ? { heartbeat_timeout_ms: (doc.heartbeat_timeout && parseDuration(doc.heartbeat_timeout)) || DEFAULT_HEARTBEAT_TIMEOUT_MS }
      : {}),
    continue_on_error: doc.continue_on_error ?? false,
    execution: mode.execution,
    ...(child ? { child } : {}),
    // Built-in actions run inside the workflow itself: a site has nothing to route there.
    ...(spec?.kind === 'workflow' ? {} : stepSite(doc, path, ctx.sites, ctx.source, ctx.errors)),
    ...pick(ctx.source.locate(path)),
  };
}
