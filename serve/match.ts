// Which alert-triggered runbooks an alert matches, and the parameters and dedup key it gives each.
import { renderValue, type ExpressionContext } from '../contract/expression.ts';
import { RE2JS } from 're2js';
import { resolveParams } from '../contract/params.ts';
import type { Plan } from '../contract/plan.ts';
import type { AlertInfo, AlertTriggerPlan, Trigger } from '../contract/trigger.ts';
import { matcherPattern } from '../compiler/triggers.ts';

export interface Matcher {
  label: string;
  test(value: string): boolean;
}

/**
 * The one place the regex engine is chosen: RE2 matches in time linear in the value
 * (JavaScript's engine backtracks: `.*db.*primary` is quadratic, nested quantifiers
 * exponential). `matches` is anchored at both ends, as Alertmanager's matchers are.
 */
function fullMatch(pattern: string): (value: string) => boolean {
  const re = RE2JS.compile(pattern);
  return (v) => re.matches(v);
}

/** Exact values, or `/regex/` anchored at both ends as Alertmanager's matchers are. */
export function compileMatchers(match: Record<string, string>): Matcher[] {
  return Object.entries(match).map(([label, value]) => {
    const pattern = matcherPattern(value);
    return { label, test: pattern === undefined ? (v) => v === value : fullMatch(pattern) };
  });
}

export function matches(matchers: Matcher[], alert: AlertInfo): boolean {
  return matchers.every((m) => alert.labels[m.label] !== undefined && m.test(alert.labels[m.label]!));
}

/** A matched alert whose labels cannot fill the trigger's templates (a label it lacks, a wrong type). */
export class AlertInputError extends Error {
  readonly code = 'alert_input';
  constructor(runbook: string, what: string, cause: Error) {
    super(`runbook ${runbook}: ${what}: ${cause.message.split('\n')[0]}`);
    this.name = 'AlertInputError';
  }
}

export interface AlertStart {
  trigger: Trigger;
  params: Record<string, string | number | boolean>;
  key: string;
}

/** Evaluates the trigger's params and dedup key against this alert (only `trigger` is in scope). */
export function alertStart(plan: Plan, trigger: AlertTriggerPlan, alert: AlertInfo): AlertStart {
  const value: Trigger = { kind: 'alert', alert };
  const context: ExpressionContext = { params: {}, steps: {}, run: {}, trigger: value };
  let rendered: Record<string, unknown>;
  let key: unknown;
  try {
    rendered = renderValue(trigger.params, context) as Record<string, unknown>;
    key = trigger.dedup_key === undefined ? '' : renderValue(trigger.dedup_key, context);
  } catch (error) {
    throw new AlertInputError(plan.name, 'the alert cannot fill triggers.alert', error as Error);
  }
  try {
    return { trigger: value, params: resolveParams(plan, rendered), key: typeof key === 'string' ? key : JSON.stringify(key) };
  } catch (error) {
    throw new AlertInputError(plan.name, 'triggers.alert.params', error as Error);
  }
}
