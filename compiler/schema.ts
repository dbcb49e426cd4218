import { z } from 'zod';
import { DURATION_PATTERN } from '../contract/duration.ts';

/**
 * The runbook document, format v1. This schema is the truth for the format: the compiler
 * validates against it and `rebound schema` turns it into JSON Schema for editors.
 * `with:` is checked separately, against the schema of the action a step `uses:`.
 */
const duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 10m or 1h');
const name = z.string().regex(/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/i, 'use letters, digits, "-" and "_"');

export const RetrySchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(1000).optional(),
  initial_interval: duration.optional(),
  backoff: z.number().min(1).max(100).optional(),
  max_interval: duration.optional(),
  non_retryable: z.array(z.string()).optional(),
});

export const StepSchema = z.strictObject({
  id: name,
  name: z.string().optional(),
  uses: z.string().min(1),
  with: z.record(z.string(), z.unknown()).optional(),
  needs: z.array(z.string()).optional(),
  if: z.string().min(1).optional(),
  retry: RetrySchema.optional(),
  timeout: duration.optional(),
  heartbeat_timeout: duration.optional(),
  continue_on_error: z.boolean().optional(),
  drill: z
    .union([z.enum(['run', 'simulate', 'skip']), z.strictObject({ with: z.record(z.string(), z.unknown()) })])
    .optional()
    .describe('What a drill does with this step: run, simulate, skip, or run with drill-safe `with` overrides'),
});

export const ParameterSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'duration']),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  description: z.string().optional(),
});

export const SecretSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: z.string().min(1) }),
]);

export const TriggersSchema = z.strictObject({
  alert: z.strictObject({ match: z.record(z.string(), z.string()) }).optional(),
  schedule: z.strictObject({ cron: z.string().min(1), timezone: z.string().optional() }).optional(),
  manual: z.boolean().optional(),
});

export const RunbookSchema = z.strictObject({
  apiVersion: z.literal('rebound/v1'),
  kind: z.literal('Runbook'),
  metadata: z.strictObject({
    name,
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    objectives: z.strictObject({ rto: duration.optional(), rpo: duration.optional() }).optional(),
    parameters: z.record(z.string(), ParameterSchema).optional(),
    secrets: z.record(z.string(), SecretSchema).optional(),
    triggers: TriggersSchema.optional(),
    steps: z.array(StepSchema).min(1, 'a runbook needs at least one step'),
    on_failure: z.array(StepSchema).optional(),
    finally: z.array(StepSchema).optional(),
  }),
});

export type StepDocument = z.infer<typeof StepSchema>;
