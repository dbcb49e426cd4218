// The built-in workflow actions: approval (signals, timeout, default outcome), sleep (a durable timer), runbook (a child runbook).
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';

const duration = z.string().regex(DURATION_PATTERN, 'a duration such as 30s, 10m or 1h');

/** Waits for votes from `rebound approve RUN STEP` / `rebound reject RUN STEP` (through serve's approval API, signed). */
export const approval = defineAction({
  name: 'approval',
  summary: 'Wait for a person to approve or reject, with a timeout and a default outcome',
  kind: 'workflow',
  backend: 'approval',
  impact: 'read',
  input: z
    .strictObject({
      message: z.string().optional(),
      timeout: duration.default('1h'),
      on_timeout: z
        .enum(['approve', 'reject'])
        .default('reject')
        .describe('what happens when nobody decides in time; approve is shown as an auto-approval in plan and reports'),
      approvers: z
        .array(z.string().regex(/^(group:)?[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'a name or group:NAME from the approvers file'))
        .default([])
        .describe('who may decide: names and group:NAME entries of the deployment approvers file (empty: anyone in it)'),
      min_approvals: z.number().int().min(1).max(20).default(1).describe('how many distinct approvers must approve (N-of-M); one counted rejection rejects'),
      allow_self_approval: z.boolean().default(false).describe('whether the person who started the run may approve it'),
    })
    .refine((w) => w.approvers.length === 0 || w.approvers.some((a) => a.startsWith('group:')) || w.min_approvals <= w.approvers.length, {
      message: 'min_approvals is more than the approvers listed: the step could never be approved',
      path: ['min_approvals'],
    }),
  output: z.object({
    decision: z.enum(['approved', 'rejected']),
    by: z.string(),
    reason: z.string(),
    timed_out: z.boolean(),
    approved_by: z.array(z.string()).optional().describe('every approver whose vote counted'),
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
