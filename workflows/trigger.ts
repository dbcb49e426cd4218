// The run's `trigger` value for expressions: from the input, else a manual start; schedules add their time.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import type { RunInput } from '../contract/run.ts';
import type { Trigger } from '../contract/trigger.ts';

// Temporal sets this on every run a Schedule starts; it is part of the start event, so replay sees it too.
const SCHEDULED_AT = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** Runs started before triggers existed, and `rebound run`, are manual. */
export function triggerOf(input: RunInput): Trigger {
  const trigger = input.trigger ?? { kind: 'manual', manual: {} };
  if (trigger.kind !== 'schedule' || trigger.schedule.scheduled_at) return trigger;
  const at = workflowInfo().typedSearchAttributes.get(SCHEDULED_AT);
  return at ? { kind: 'schedule', schedule: { ...trigger.schedule, scheduled_at: at.toISOString() } } : trigger;
}
