// The built-in workflow actions: approval (signals, timeout, default outcome), sleep (a durable timer), runbook (a child runbook).
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';

const duration = z.string().regex(DURATION_PATTERN, 'a duration such as 30s, 10m or 1h');

/** Waits for `rebound approve RUN STEP` / `rebound reject RUN STEP` (signals). */
export const approval = defineAction({
  name: 'approval',
  summary: 'Wait for a person to approve or reject, with a timeout and a default outcome',
  kind: 'workflow',
  backend: 'approval',
  impact: 'read',
  input: z.strictObject({
    message: z.string().optional(),
    timeout: duration.default('1h'),
    on_timeout: z.enum(['approve', 'reject']).default('reject'),
  }),
  output: z.object({
    decision: z.enum(['approved', 'rejected']),
    by: z.string(),
    reason: z.string(),
    timed_out: z.boolean(),
  }),
});

/** A durable timer inside the workflow: survives worker and server restarts. */
export const sleep = defineAction({
  name: 'sleep',
  summary: 'Wait for a duration (a durable timer)',
  kind: 'workflow',
  backend: 'timer',
  impact: 'read',
  input: z.strictObject({ duration }),
  output: z.object({ slept_ms: z.number() }),
});

/** Runs another runbook as a child workflow; its plan is compiled into the parent's. */
export const childRunbook = defineAction({
  name: 'runbook',
  summary: 'Run another runbook as a child workflow',
  kind: 'workflow',
  backend: 'runbook',
  impact: 'read',
  input: z.strictObject({
    path: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
  output: z.object({ status: z.string(), workflow_id: z.string(), outputs: z.record(z.string(), z.unknown()) }),
});
