// The routing.switch action's contract: move traffic between servers (HAProxy) or target groups (AWS ELBv2).
import { z } from 'zod';
import { defineAction, type Revert } from '../action.ts';
import { defineIntegrationSpec } from '../integration.ts';

/** HAProxy identifiers; also keeps `;` and newlines, which end a Runtime API command, out of names. */
export const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

export const SERVER_STATES = ['ready', 'drain', 'maint'] as const;

/** One server's administrative state as HAProxy's Runtime API sets it (weight 0–256, HAProxy's range). */
const ServerSettingSchema = z.strictObject({
  state: z.enum(SERVER_STATES).optional(),
  weight: z.number().int().min(0).max(256).optional(),
});

const ServersSchema = z
  .record(z.string().regex(HAPROXY_NAME, 'an HAProxy server name'), ServerSettingSchema)
  .refine((servers) => Object.keys(servers).length > 0, 'name at least one server');

/** ELBv2 weights run 0–999; the map is the whole weighted forward, so groups left out stop receiving traffic. */
const TargetGroupsSchema = z
  .record(z.string().startsWith('arn:', 'a target group ARN'), z.number().int().min(0).max(999))
  .refine((groups) => Object.keys(groups).length > 0, 'name at least one target group');

export const HaproxySchema = z.strictObject({
  socket: z
    .string()
    .regex(
      /^(tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}|unix:\/\/\/.+)$/,
      'tcp://host:port or unix:///path of the Runtime API (stats socket, level admin)',
    ),
  backend: z.string().regex(HAPROXY_NAME, 'an HAProxy backend name'),
  servers: ServersSchema.describe('server → {state: ready|drain|maint, weight: 0-256}; servers not named are left alone'),
});

export const Elbv2Schema = z.strictObject({
  listener_arn: z.string().startsWith('arn:').optional().describe("switch the listener's default forward action"),
  rule_arn: z.string().startsWith('arn:').optional().describe("switch a listener rule's forward action"),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('another ELBv2 endpoint (a VPC endpoint, a test server)'),
  region: z.string().min(1).default('us-east-1'),
  access_key: z.string().optional().describe("from a secret; absent: the worker's AWS credentials"),
  secret_key: z.string().optional(),
  target_groups: TargetGroupsSchema.describe('target group ARN → weight: the whole weighted forward after the switch'),
});

/** A state the switch reads and sets: per provider, the same shape as what it is told to set. */
export const HaproxyStateSchema = z.record(z.string(), z.strictObject({ state: z.enum(SERVER_STATES), weight: z.number().int() }));
export const Elbv2StateSchema = z.record(z.string(), z.number().int());

const ExpectSchema = z.record(z.string(), z.union([ServerSettingSchema, z.number().int()]));

export type RoutingInput = z.output<typeof routingInput>;

const routingInput = z
  .strictObject({
    provider: z.enum(['haproxy', 'aws-elbv2']),
    haproxy: HaproxySchema.optional(),
    elbv2: Elbv2Schema.optional(),
    expect_current: ExpectSchema.optional().describe(
      'guard: the state found must match (HAProxy: the fields given per server; ELBv2: the whole weight map), or the step fails without a change',
    ),
  })
  .superRefine((input, ctx) => {
    const block = input.provider === 'haproxy' ? 'haproxy' : 'elbv2';
    const other = block === 'haproxy' ? 'elbv2' : 'haproxy';
    // Paths point at the missing field, so the compiler can tell a templated block from a missing one.
    if (!input[block]) ctx.addIssue({ code: 'custom', path: [block], message: `provider ${input.provider} needs a ${block} block` });
    if (input[other]) ctx.addIssue({ code: 'custom', path: [other], message: `provider ${input.provider} takes no ${other} block` });
    if (input.elbv2 && !input.elbv2.listener_arn === !input.elbv2.rule_arn) {
      ctx.addIssue({ code: 'custom', path: ['elbv2', 'listener_arn'], message: 'give exactly one of listener_arn and rule_arn' });
    }
    if (input.elbv2 && !input.elbv2.access_key !== !input.elbv2.secret_key) {
      ctx.addIssue({
        code: 'custom',
        path: ['elbv2', input.elbv2.access_key ? 'secret_key' : 'access_key'],
        message: 'give access_key and secret_key together',
      });
    }
    for (const [key, value] of Object.entries(input.expect_current ?? {})) {
      const wanted = block === 'haproxy' ? 'object' : 'number';
      if (typeof value !== wanted) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect_current', key],
          message: block === 'haproxy' ? 'expected {state, weight} for an HAProxy server' : 'expected a weight for a target group',
        });
      }
    }
  });

/**
 * Back to the recorded `previous`, guarded by what the run set: a change made by someone
 * else since then stops the failback instead of being overwritten.
 */
const revertRouting: Revert = (input, outputs) => {
  if (outputs.changed !== true || outputs.simulated === true) return undefined;
  const block = input.provider === 'haproxy' ? 'haproxy' : 'elbv2';
  const field = block === 'haproxy' ? 'servers' : 'target_groups';
  const { expect_current: _guard, ...rest } = input;
  return { ...rest, [block]: { ...(input[block] as Record<string, unknown>), [field]: outputs.previous }, expect_current: outputs.current };
};

/**
 * What a switch changes: an HAProxy backend (its servers, entry by entry: a switch may name only
 * some of them) or an ELBv2 listener's or rule's forward (whole).
 */
function routingResource(input: Record<string, unknown>): string | undefined {
  const block = (input.provider === 'haproxy' ? input.haproxy : input.elbv2) as Record<string, unknown> | undefined;
  if (input.provider === 'haproxy')
    return typeof block?.socket === 'string' && typeof block.backend === 'string' ? `haproxy ${block.socket} ${block.backend}` : undefined;
  const arn = block?.rule_arn ?? block?.listener_arn;
  return typeof arn === 'string' ? `aws-elbv2 ${arn}` : undefined;
}

/**
 * Moves traffic: HAProxy server states and weights through the Runtime API, or the weights
 * of an ELBv2 listener's (or rule's) weighted forward. Reads first, honours
 * `expect_current`, writes nothing when already at the target, and reads back.
 */
export const routingSwitch = defineAction({
  name: 'routing.switch',
  summary: 'Move traffic between HAProxy servers or ELBv2 target groups (production impact: simulated in drills)',
  kind: 'activity',
  backend: 'routing',
  impact: 'production',
  secret_inputs: ['elbv2.access_key', 'elbv2.secret_key'],
  secret_destinations: { elbv2: 'elbv2.endpoint' },
  drill_targets: ['haproxy', 'elbv2'],
  simulates: true,
  revert: revertRouting,
  resource: routingResource,
  state_by_entry: (input) => input.provider === 'haproxy',
  input: routingInput,
  output: z.object({
    provider: z.enum(['haproxy', 'aws-elbv2']),
    previous: z.union([HaproxyStateSchema, Elbv2StateSchema]).describe('the state found before the switch (HAProxy: the servers named)'),
    current: z.union([HaproxyStateSchema, Elbv2StateSchema]).describe('the state read back after it; simulated: the state a run would leave'),
    changed: z.boolean().describe('simulated: whether a run would change anything'),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional().describe('simulated: what was checked, and the change a run would make'),
  }),
});

/** The traffic-routing integration (HAProxy, ELBv2); it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'routing',
  actions: [routingSwitch],
});
