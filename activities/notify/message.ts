// What every channel renders: one message of a run, with its severity, its link, its fields and whether it comes from a drill.
import type { z } from 'zod';
import type { notify } from '../../contract/actions/notify.ts';

type Input = z.output<(typeof notify)['input']>;

export interface Message {
  title: string;
  text: string;
  severity: Input['severity'];
  drill: boolean;
  runbook: string;
  run_id: string;
  link?: string;
  fields: Record<string, string>;
  event: Input['event'];
  dedup_key: string;
}

/** The message a step's input describes; a drill's title says so first, in every channel. */
export function messageOf(input: Input, ctx: { runbook: string; runId: string; mask(text: string): string }): Message {
  const title = input.title ?? `${ctx.runbook}: ${input.severity}`;
  return {
    title: input.drill ? `[DRILL] ${title}` : title,
    text: input.drill ? `${input.message}\n(This is a drill: production is not affected.)` : input.message,
    severity: input.severity,
    drill: input.drill,
    runbook: ctx.runbook,
    run_id: ctx.runId,
    ...(input.link ? { link: input.link } : {}),
    fields: { runbook: ctx.runbook, run: ctx.runId, ...(input.drill ? { mode: 'drill' } : {}), ...input.fields },
    event: input.event,
    dedup_key: input.dedup_key ?? ctx.runId,
  };
}

/** Cuts text to a service's limit, saying it was cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
