// Checks `spec.triggers` (alert matching, templates, schedules, their parameters) and compiles them into the plan.
import type { z } from 'zod';
import { RE2JS } from 're2js';
import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../contract/duration.ts';
import { hasTemplate } from '../contract/expression.ts';
import { ParameterError, resolveParams } from '../contract/params.ts';
import type { Plan, PlanParameter } from '../contract/plan.ts';
import type { AlertTriggerPlan, ScheduleTriggerPlan, TriggerParams } from '../contract/trigger.ts';
import { CompileError } from './errors.ts';
import type { ReferenceScope } from './references.ts';
import type { AlertTriggerSchema, ScheduleTriggerSchema, TriggersSchema } from './schema.ts';
import type { StepContext } from './step-context.ts';
import { checkTemplates } from './templates.ts';

type Path = (string | number)[];
const DEFAULT_CATCHUP_MS = 3_600_000;
/** Temporal refuses a catch-up window under 10 s. */
const MIN_CATCHUP_MS = 10_000;

/** A trigger's templates are evaluated when the alert arrives: only `trigger` exists then. */
const TRIGGER_SCOPE: ReferenceScope = {
  params: new Set(),
  secrets: new Set(),
  visible: () => false,
  outputs: () => undefined,
  all: new Set(),
  allowSecrets: false,
  roots: new Set(['trigger']),
};

/** `/…/` in `match` is a regular expression; anything else is an exact value. */
export function matcherPattern(value: string): string | undefined {
  return value.length >= 2 && value.startsWith('/') && value.endsWith('/') ? value.slice(1, -1) : undefined;
}

function fail(ctx: StepContext, code: CompileError['code'], message: string, path: Path, key = false): void {
  ctx.errors.push(new CompileError(code, message, ctx.source.locate(path, { key })));
}

function checkMatch(match: Record<string, string>, ctx: StepContext, base: Path): void {
  if (!Object.keys(match).length)
    fail(ctx, 'schema', 'triggers.alert.match: name at least one label, or every alert would start this runbook', [...base, 'match']);
  for (const [label, value] of Object.entries(match)) {
    const pattern = matcherPattern(value);
    if (pattern === undefined) continue;
    try {
      // RE2 syntax (what serve matches with): no lookaround, no backreferences.
      RE2JS.compile(pattern);
    } catch (error) {
      fail(ctx, 'schema', `triggers.alert.match.${label}: invalid regular expression: ${(error as Error).message}`, [...base, 'match', label]);
    }
  }
}

/**
 * Values a trigger gives must name declared parameters, have their types, and cover the
 * required ones. Templates are checked only for their references: their values come later.
 */
function checkParams(given: TriggerParams, parameters: Record<string, PlanParameter>, ctx: StepContext, base: Path, what: string): void {
  for (const [name, value] of Object.entries(given)) {
    const spec = parameters[name];
    if (!spec) {
      const declared = Object.keys(parameters);
      fail(
        ctx,
        'parameter',
        `${what}.params: no parameter "${name}"; the runbook declares ${declared.length ? declared.join(', ') : 'none'}`,
        [...base, 'params', name],
        true,
      );
      continue;
    }
    if (typeof value === 'string' && hasTemplate(value)) continue;
    try {
      resolveParams({ name: what, parameters: { [name]: spec } }, { [name]: value });
    } catch (error) {
      if (!(error instanceof ParameterError)) throw error;
      fail(ctx, 'parameter', `${what}.params: ${error.message}`, [...base, 'params', name]);
    }
  }
  for (const [name, spec] of Object.entries(parameters)) {
    if (spec.required && !(name in given)) fail(ctx, 'parameter', `${what}: parameter "${name}" is required; give it under ${what}.params`, base);
  }
}

function compileAlert(alert: z.infer<typeof AlertTriggerSchema>, ctx: StepContext, parameters: Record<string, PlanParameter>): AlertTriggerPlan {
  const base = ['spec', 'triggers', 'alert'];
  checkMatch(alert.match, ctx, base);
  const params = alert.params ?? {};
  checkParams(params, parameters, ctx, base, 'triggers.alert');
  const rewritten = checkTemplates(params, [...base, 'params'], TRIGGER_SCOPE, ctx, 'triggers.alert.params') as TriggerParams;
  const dedup =
    alert.dedup_key === undefined
      ? undefined
      : (checkTemplates(alert.dedup_key, [...base, 'dedup_key'], TRIGGER_SCOPE, ctx, 'triggers.alert.dedup_key') as string);
  return {
    match: alert.match,
    params: rewritten,
    ...(dedup !== undefined ? { dedup_key: dedup } : {}),
    cooldown_ms: alert.cooldown ? (parseDuration(alert.cooldown) ?? 0) : 0,
    mode: alert.mode ?? 'run',
  };
}

function checkWhen(schedule: z.infer<typeof ScheduleTriggerSchema>, ctx: StepContext, base: Path): void {
  if ((schedule.cron === undefined) === (schedule.every === undefined)) {
    fail(ctx, 'schema', 'triggers.schedule: give exactly one of cron (e.g. "0 2 * * *") or every (e.g. 15m)', base);
  }
  if (schedule.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: schedule.timezone });
    } catch {
      fail(ctx, 'schema', `triggers.schedule.timezone: unknown time zone "${schedule.timezone}"; use an IANA name such as UTC or Europe/Berlin`, [
        ...base,
        'timezone',
      ]);
      return;
    }
  }
  if (schedule.cron === undefined) return;
  try {
    CronExpressionParser.parse(schedule.cron, schedule.timezone ? { tz: schedule.timezone } : {});
  } catch (error) {
    fail(ctx, 'schema', `triggers.schedule.cron: ${(error as Error).message}`, [...base, 'cron']);
  }
}

function compileSchedule(schedule: z.infer<typeof ScheduleTriggerSchema>, ctx: StepContext, parameters: Record<string, PlanParameter>): ScheduleTriggerPlan {
  const base = ['spec', 'triggers', 'schedule'];
  checkWhen(schedule, ctx, base);
  const params = schedule.params ?? {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string' && hasTemplate(value))
      fail(ctx, 'expression', `triggers.schedule.params.${name}: a schedule's values are fixed; no \${{ }} here`, [...base, 'params', name]);
  }
  checkParams(params, parameters, ctx, base, 'triggers.schedule');
  const catchup = schedule.catchup_window ? (parseDuration(schedule.catchup_window) ?? DEFAULT_CATCHUP_MS) : DEFAULT_CATCHUP_MS;
  if (catchup < MIN_CATCHUP_MS) fail(ctx, 'schema', 'triggers.schedule.catchup_window: Temporal needs at least 10s', [...base, 'catchup_window']);
  const every = schedule.every ? parseDuration(schedule.every) : undefined;
  if (every !== undefined && every < 1000) fail(ctx, 'schema', 'triggers.schedule.every: at least 1s', [...base, 'every']);
  return {
    ...(schedule.cron ? { cron: schedule.cron } : {}),
    ...(every !== undefined ? { every_ms: every } : {}),
    ...(schedule.timezone ? { timezone: schedule.timezone } : {}),
    params,
    mode: schedule.mode ?? 'run',
    overlap: schedule.overlap ?? 'skip',
    catchup_window_ms: catchup,
    ...(schedule.jitter ? { jitter_ms: parseDuration(schedule.jitter) } : {}),
    pause_on_failure: schedule.pause_on_failure ?? false,
  };
}

/** The plan's triggers; problems go to `ctx.errors`, located. */
export function compileTriggers(
  triggers: z.infer<typeof TriggersSchema> | undefined,
  ctx: StepContext,
  parameters: Record<string, PlanParameter>,
): Plan['triggers'] {
  return {
    ...(triggers?.alert ? { alert: compileAlert(triggers.alert, ctx, parameters) } : {}),
    ...(triggers?.schedule ? { schedule: compileSchedule(triggers.schedule, ctx, parameters) } : {}),
    manual: triggers?.manual ?? true,
  };
}
