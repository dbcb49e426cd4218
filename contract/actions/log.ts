// The log action's definition: a message to the worker log and the run's report.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { defineIntegrationSpec } from '../integration.ts';

/** A line in the worker's log and the run's report: "failover done, RTO so far 4m". */
export const log = defineAction({
  name: 'log',
  summary: 'Write a message to the worker log and the run report',
  kind: 'activity',
  backend: 'log',
  impact: 'read',
  input: z.strictObject({
    message: z.string(),
    level: z.enum(['info', 'warn', 'error']).default('info'),
  }),
  output: z.object({ message: z.string() }),
});

/** The log integration: a line in the run's log; it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'log',
  actions: [log],
});
