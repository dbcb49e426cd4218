// The metrics integration's contract: metrics.check, a PromQL query against Prometheus' HTTP API compared with a threshold, now or at every evaluation over a window.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { defineIntegrationSpec } from '../integration.ts';

const Duration = z.string().regex(DURATION_PATTERN, 'a duration such as 5s');

/** The comparisons PromQL itself has, so a runbook reads like the alert rule it mirrors. */
export const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='] as const;

/**
 * Whether a failover may go on, by the numbers ("error rate < 0.01", "p99 under 0.2 s").
 * With `for`, a range query over the window evaluates the query every `step`, as a rule's
 * `for:` does: every value of every series must pass, so a spike a moment ago still fails.
 */
export const metricsCheck = defineAction({
  name: 'metrics.check',
  summary: "Run a PromQL query against Prometheus and compare every series' value with a threshold, now or over a window",
  kind: 'activity',
  backend: 'prometheus',
  impact: 'read',
  secret_destinations: { headers: 'url' },
  input: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).describe("Prometheus' base URL (or a compatible API's: Thanos, Mimir), e.g. http://prometheus.internal:9090"),
      query: z.string().min(1).describe('the PromQL expression; each series it returns is compared'),
      expect: z
        .strictObject({
          op: z.enum(COMPARISONS).describe('how each value compares with `value`'),
          value: z.number().describe('the threshold'),
        })
        .describe('the condition every value must meet: `{op: "<", value: 0.01}`; NaN and ±Inf never meet it'),
      name: z.string().min(1).optional().describe('what the query measures, for messages ("error rate")'),
      for: Duration.optional().describe(
        'the condition must hold at every evaluation over this window ending now (a range query); without it, one instant query',
      ),
      step: Duration.optional().describe('with `for`: time between evaluations (default: a tenth of `for`, at most 15s)'),
      on_empty: z.enum(['fail', 'pass']).default('fail').describe('when the query returns no series: fail (nothing to judge by) or pass'),
      headers: z.record(z.string(), z.string()).default({}).describe('e.g. `Authorization: Bearer …` from a secret; sent only to the host of `url`'),
      timeout: Duration.default('10s').describe("for the request, and Prometheus' own evaluation timeout"),
      tls_verify: z.boolean().default(true).describe('false only for a Prometheus with a self-signed certificate on a private network'),
    })
    .refine((i) => i.step === undefined || i.for !== undefined, { path: ['step'], message: 'step needs for: the window it divides' }),
  output: z.object({
    passed: z.boolean().describe('always true: a failing comparison fails the step'),
    query: z.string(),
    window: z.string().nullable().describe('the `for` window, or null for an instant query'),
    samples: z.number().describe('values compared, over every series and evaluation'),
    series_count: z.number(),
    series: z
      .array(z.object({ labels: z.record(z.string(), z.string()), value: z.number(), at: z.string() }))
      .describe("up to 10 series, closest to the threshold first: each one's labels and its worst value, with when"),
  }),
});

/** The metrics integration: checks of what Prometheus measures; it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'metrics',
  actions: [metricsCheck],
});
