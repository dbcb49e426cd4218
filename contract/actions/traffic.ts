// The traffic.shift action's contract: move weight between two targets in steps, with an analysis between steps and a rollback when one fails.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { DnsName } from './dns.ts';
import { Route53Schema } from './dns-route53.ts';
import { Elbv2Schema, HaproxySchema } from './routing.ts';

/** What the shift moves weight on: the routing.switch blocks without their target state, or one Route 53 weighted name. */
const HaproxyTarget = HaproxySchema.omit({ servers: true });
const Elbv2Target = Elbv2Schema.omit({ target_groups: true });
const Route53Target = Route53Schema.extend({
  zone: DnsName.describe('the zone holding the weighted records, e.g. example.org.'),
  name: DnsName.describe('the weighted name, e.g. api.example.org.'),
  type: z.enum(['A', 'AAAA', 'CNAME']),
});

/** A weight map: target (HAProxy server, target group ARN, Route 53 set identifier) → weight. */
const WeightsSchema = z.record(z.string().min(1), z.number().int().min(0).max(255));
export type Weights = z.infer<typeof WeightsSchema>;

/** One step: the percentage of traffic on `to` afterwards, or the exact weights of both targets. */
const StepSchema = z.union([z.number().int().min(0).max(100), WeightsSchema]);

export const SHIFT_PROVIDERS = ['haproxy', 'aws-elbv2', 'route53'] as const;

export const trafficShiftInput = z
  .strictObject({
    provider: z.enum(SHIFT_PROVIDERS),
    haproxy: HaproxyTarget.optional(),
    elbv2: Elbv2Target.optional(),
    route53: Route53Target.optional(),
    from: z.string().min(1).describe('the target losing traffic: an HAProxy server, a target group ARN or a Route 53 set identifier'),
    to: z.string().min(1).describe('the target gaining traffic (same kinds of name as from)'),
    steps: z.array(StepSchema).min(1).max(20).describe('per step, the percentage of traffic on `to` afterwards (25, 50, 100), or {target: weight} of both'),
    pause: z.string().regex(DURATION_PATTERN, 'a duration such as 2m').default('0s').describe('how long each step holds before its analysis runs'),
    on_analysis_failure: z
      .enum(['rollback', 'hold'])
      .default('rollback')
      .describe('rollback: back to the weights the shift started from; hold: stay where the failed step left them'),
    expect_current: WeightsSchema.optional().describe('guard: the weights of from and to must be these when the shift starts, or nothing changes'),
  })
  .superRefine((input, ctx) => {
    const block = { haproxy: 'haproxy', 'aws-elbv2': 'elbv2', route53: 'route53' }[input.provider] as 'haproxy' | 'elbv2' | 'route53';
    if (!input[block]) ctx.addIssue({ code: 'custom', path: [block], message: `provider ${input.provider} needs a ${block} block` });
    for (const other of (['haproxy', 'elbv2', 'route53'] as const).filter((b) => b !== block && input[b])) {
      ctx.addIssue({ code: 'custom', path: [other], message: `provider ${input.provider} takes no ${other} block` });
    }
    if (input.from === input.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'from and to name the same target' });
    input.steps.forEach((step, i) => {
      if (typeof step === 'number') return;
      const keys = Object.keys(step).sort();
      if (keys.join() !== [input.from, input.to].sort().join()) {
        ctx.addIssue({ code: 'custom', path: ['steps', i], message: `give the weights of exactly "${input.from}" and "${input.to}"` });
      }
    });
    if (input.elbv2 && !input.elbv2.listener_arn === !input.elbv2.rule_arn) {
      ctx.addIssue({ code: 'custom', path: ['elbv2', 'listener_arn'], message: 'give exactly one of listener_arn and rule_arn' });
    }
  });
export type TrafficShiftInput = z.output<typeof trafficShiftInput>;

const SetSchema = z.object({ step: z.number().int(), weights: WeightsSchema, at: z.string() });
const AnalysisResultSchema = z.object({ step: z.number().int(), check: z.string(), outcome: z.enum(['passed', 'failed']), reason: z.string().optional() });

/**
 * Moves traffic in steps. The interpreter runs it (workflows/shift.ts): each step is a
 * routing.switch (HAProxy, ELBv2) or dns.switch (Route 53 weighted records) guarded by the
 * weights the previous one left, then a durable pause, then the step's `analysis:` checks;
 * a failed check rolls back to the starting weights (or holds).
 */
export const trafficShift = defineAction({
  name: 'traffic.shift',
  summary: 'Move traffic between two targets in steps, with an analysis between steps and automatic rollback (HAProxy, ELBv2, Route 53 weighted)',
  kind: 'workflow',
  backend: 'traffic',
  impact: 'production',
  simulates: true,
  secret_inputs: ['elbv2.access_key', 'elbv2.secret_key', 'route53.access_key', 'route53.secret_key'],
  secret_destinations: { elbv2: 'elbv2.endpoint', route53: 'route53.endpoint' },
  drill_targets: ['haproxy', 'elbv2', 'route53'],
  input: trafficShiftInput,
  output: z.object({
    provider: z.enum(SHIFT_PROVIDERS),
    from: z.string(),
    to: z.string(),
    previous: WeightsSchema.describe('the weights of from and to when the shift started'),
    current: WeightsSchema.describe('the weights it left (simulated: the weights a run would leave)'),
    outcome: z.enum(['completed', 'rolled_back', 'held', 'running']).describe('running while the shift is under way'),
    reached: z.number().int().describe('how many steps were set and passed their analysis'),
    sets: z.array(SetSchema).describe('every weight the shift set, in order (a rollback included, as step 0)'),
    analyses: z.array(AnalysisResultSchema).describe('every analysis check and its result, per step'),
    changed: z.boolean(),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional().describe('simulated: what each step checked and would change'),
  }),
  /**
   * Back to the weights before the shift in one step, guarded by the weights it left; a shift
   * that ended where it began changed nothing. The run's record holds the `with:` of the
   * shift's last switch (its activities carry the shift's step id), so the target is read from it.
   */
  nothing_to_revert: (_input, outputs) => {
    const [previous, current] = [outputs.previous as Weights | undefined, outputs.current as Weights | undefined];
    if (!previous || !current || !sameWeights(previous, current)) return undefined;
    return outputs.outcome === 'rolled_back' ? 'the shift rolled back to the weights it started from' : 'the shift ended at the weights it started from';
  },
  revert(input, outputs) {
    const previous = outputs.previous as Weights | undefined;
    const current = outputs.current as Weights | undefined;
    if (outputs.simulated === true || !previous || !current || sameWeights(previous, current)) return undefined;
    const target = shiftTargetOf(input);
    if (!target) return undefined;
    return { ...target, from: outputs.from, to: outputs.to, steps: [previous], expect_current: current };
  },
});

/**
 * The provider and target block of a shift from the `with:` of one of its switches (or of the
 * shift itself): routing.switch's haproxy/elbv2 without their target state, dns.switch's
 * route53 block with the record's zone, name and type.
 */
export function shiftTargetOf(input: Record<string, unknown>): Record<string, unknown> | undefined {
  const block = (name: string) => (input[name] && typeof input[name] === 'object' ? (input[name] as Record<string, unknown>) : undefined);
  if (input.provider === 'haproxy' && block('haproxy')) {
    const { servers: _servers, ...haproxy } = block('haproxy')!;
    return { provider: 'haproxy', haproxy };
  }
  if (input.provider === 'aws-elbv2' && block('elbv2')) {
    const { target_groups: _groups, ...elbv2 } = block('elbv2')!;
    return { provider: 'aws-elbv2', elbv2 };
  }
  if (input.provider === 'route53' && block('route53')) {
    const { zone, name, type } = input;
    return { provider: 'route53', route53: { ...block('route53')!, ...(zone !== undefined ? { zone, name, type } : {}) } };
  }
  return undefined;
}

export function sameWeights(a: Weights, b: Weights): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
