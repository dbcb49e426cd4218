// dns.switch in a drill: the record as the earlier simulated step on it would have left it (ActionContext.carried), in place of what is really there.
import type { ActionContext } from '../runtime/wrap.ts';
import { describeSet, type RecordSet } from './records.ts';

/**
 * The record set a simulation treats as found: the carried one when an earlier simulated step
 * switched this record, else the real one; with the preflight line that says which it is.
 */
export function drillRecord(ctx: ActionContext, real: RecordSet | null): { current: RecordSet | null; line?: string } {
  if (!ctx.carried) return { current: real };
  const current = (ctx.carried.state ?? null) as RecordSet | null;
  return {
    current,
    line: `the record as the earlier step "${ctx.carried.from}" would have left it: ${describeSet(current)} (really there now: ${describeSet(real)})`,
  };
}
