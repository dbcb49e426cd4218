// Route 53 in the DNS integration: the connection block, dns.switch's routing-policy fields (weighted, failover, latency) and the route53.health_check action.
import { z } from 'zod';
import { defineAction } from '../action.ts';

export const Route53Schema = z.strictObject({
  hosted_zone_id: z.string().min(1).optional().describe('found by the zone name when not given'),
  endpoint: z.url().optional().describe('another API endpoint (moto, a VPC endpoint)'),
  region: z.string().default('us-east-1'),
  access_key: z.string().optional().describe("from a secret; without it, the worker's AWS environment"),
  secret_key: z.string().optional(),
});

/** A health check has no hosted zone: the same block without it. */
const Route53ConnectionSchema = Route53Schema.omit({ hosted_zone_id: true });

export const FAILOVER_ROLES = ['PRIMARY', 'SECONDARY'] as const;
/** The routing policies dns.switch can set, one per record: the field that names each. */
export const POLICY_FIELDS = ['weight', 'failover', 'region'] as const;

/** dns.switch's fields for one record of a Route 53 routing policy, named by its SetIdentifier. */
export const policyFields = {
  set_identifier: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('Route 53 only: the routing-policy record (weighted, failover, latency) to switch, by its SetIdentifier'),
  weight: z.number().int().min(0).max(255).optional().describe('with set_identifier: a weighted record, this share of the answers (0-255)'),
  failover: z.enum(FAILOVER_ROLES).optional().describe('with set_identifier: a failover record, PRIMARY or SECONDARY'),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region name such as eu-west-1')
    .optional()
    .describe('with set_identifier: a latency record for this AWS region'),
  health_check_id: z
    .string()
    .max(64)
    .optional()
    .describe("with set_identifier: the health check the record answers by ('' removes it; absent keeps the record's)"),
};

type PolicyInput = { provider?: string; set_identifier?: string; values?: unknown } & Partial<
  Record<(typeof POLICY_FIELDS)[number] | 'health_check_id', unknown>
>;

/**
 * For a refinement that must run even when other fields failed: the compiler drops a
 * templated field before checking (a `powerdns.api_key` from a secret always is), and a
 * required field missing stops zod's ordinary refinements.
 */
export const EVEN_WITH_ISSUES = { when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null };

/**
 * Cross-field rules of the policy fields. Each issue sits on a field that is written (or on
 * `values`): a field left out because it holds `${{ }}` is dropped before the compiler checks,
 * and an issue on it would be a false error.
 */
export function checkPolicy(input: PolicyInput, issue: (path: string[], message: string) => void): void {
  const given = POLICY_FIELDS.filter((f) => input[f] !== undefined);
  if (input.set_identifier === undefined) {
    for (const field of [...given, ...(input.health_check_id !== undefined ? ['health_check_id'] : [])])
      issue([field], `${field} belongs to a Route 53 routing-policy record: give set_identifier too`);
    return;
  }
  if (input.provider === 'powerdns')
    issue(['set_identifier'], 'set_identifier names a Route 53 routing-policy record; PowerDNS has none (use provider route53)');
  if (given.length > 1) issue([given[1]!], `a record has one routing policy: give one of ${given.join(', ')}, not ${given.length}`);
}

const HealthCheckStateSchema = z.object({ inverted: z.boolean(), disabled: z.boolean() });
export type HealthCheckState = z.infer<typeof HealthCheckStateSchema>;

export const HEALTH_CHECK_OPERATIONS = ['invert', 'uninvert', 'disable', 'enable'] as const;
export type HealthCheckOperation = (typeof HEALTH_CHECK_OPERATIONS)[number];

/** Each operation sets one flag; its opposite sets it back. */
export const OPERATION_EFFECT: Record<HealthCheckOperation, { flag: keyof HealthCheckState; value: boolean; undo: HealthCheckOperation }> = {
  invert: { flag: 'inverted', value: true, undo: 'uninvert' },
  uninvert: { flag: 'inverted', value: false, undo: 'invert' },
  disable: { flag: 'disabled', value: true, undo: 'enable' },
  enable: { flag: 'disabled', value: false, undo: 'disable' },
};

/**
 * Forces a Route 53 failover policy over (or back) the way Route 53 users do by hand:
 * an inverted health check reports the healthy endpoint unhealthy; a disabled one is
 * always healthy. Production impact: a drill reads the check and reports the change.
 */
export const route53HealthCheck = defineAction({
  name: 'route53.health_check',
  summary: 'Invert, uninvert, disable or enable a Route 53 health check (forces a failover policy over); production impact: a preflight in drills',
  kind: 'activity',
  backend: 'route53',
  impact: 'production',
  simulates: true,
  // One check is one resource: an invert and its later uninvert in a drill see each other.
  resource: (input) => (typeof input.health_check_id === 'string' ? `route53 health-check ${input.health_check_id}` : undefined),
  secret_inputs: ['route53.access_key', 'route53.secret_key'],
  secret_destinations: { route53: 'route53.endpoint' },
  input: z
    .strictObject({
      health_check_id: z.string().min(1).max(64).describe('the health check, e.g. the one a failover PRIMARY record answers by'),
      operation: z.enum(HEALTH_CHECK_OPERATIONS).describe('invert | uninvert (Inverted), disable | enable (Disabled)'),
      route53: Route53ConnectionSchema.optional(),
    })
    .superRefine((input, ctx) => {
      if (!!input.route53?.access_key !== !!input.route53?.secret_key)
        ctx.addIssue({ code: 'custom', path: ['route53'], message: 'access_key and secret_key go together' });
    }),
  output: z.object({
    health_check_id: z.string(),
    operation: z.enum(HEALTH_CHECK_OPERATIONS),
    previous: HealthCheckStateSchema,
    /** What the health check is set to now (in a simulation: what it would be). */
    current: HealthCheckStateSchema,
    changed: z.boolean(),
    simulated: z.boolean(),
    /** In a simulation: what the preflight proved, and the change it would make. */
    preflight: z.array(z.string()).optional(),
  }),
  /** Failback runs the opposite operation, which sets the one flag back to what the run found. */
  revert(input, outputs) {
    if (outputs.changed !== true || outputs.simulated === true) return undefined;
    const operation = input.operation as HealthCheckOperation | undefined;
    return operation ? { ...input, operation: OPERATION_EFFECT[operation].undo } : undefined;
  },
});
