// The route53.health_check action: read a health check, set Inverted or Disabled through UpdateHealthCheck unless it already is; in drills, a preflight that reports the change.
import { GetHealthCheckCommand, UpdateHealthCheckCommand, type HealthCheck } from '@aws-sdk/client-route-53';
import type { z } from 'zod';
import { OPERATION_EFFECT, route53HealthCheck, type HealthCheckState } from '../../contract/actions/dns-route53.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { route53Client, type Route53 } from './route53-client.ts';

type Input = z.output<typeof route53HealthCheck.input>;
type Output = z.input<typeof route53HealthCheck.output>;

/** Kept in the heartbeat before the update, so a retry after a crash still knows what the check was before. */
interface Updating {
  health_check_id: string;
  operation: Input['operation'];
  previous: HealthCheckState;
}

interface Found {
  state: HealthCheckState;
  /** Route 53 refuses an update carrying an older version: someone else's change in between is not overwritten. */
  version?: number;
  /** `HTTPS api.example.com:443/health`: what the check probes, for the preflight. */
  probes: string;
}

const stateOf = (check: HealthCheck | undefined): HealthCheckState => ({
  inverted: check?.HealthCheckConfig?.Inverted === true,
  disabled: check?.HealthCheckConfig?.Disabled === true,
});

function describeProbe(check: HealthCheck | undefined): string {
  const c = check?.HealthCheckConfig;
  if (!c) return 'an unknown probe';
  const host = c.FullyQualifiedDomainName ?? c.IPAddress;
  return host ? `${c.Type} ${host}${c.Port ? `:${c.Port}` : ''}${c.ResourcePath ?? ''}` : `${c.Type}`;
}

const describeState = (s: HealthCheckState): string => `inverted ${s.inverted}, disabled ${s.disabled}`;

async function read(r53: Route53, id: string): Promise<Found> {
  const got = await r53.send(`reading health check ${id}`, (o) => r53.client.send(new GetHealthCheckCommand({ HealthCheckId: id }), o));
  const check = got.HealthCheck;
  return { state: stateOf(check), version: check?.HealthCheckVersion, probes: describeProbe(check) };
}

const connect = (input: Input, ctx: ActionContext): Route53 => route53Client(input.route53 ?? { region: 'us-east-1' }, ctx.signal);

function targetOf(input: Input, found: HealthCheckState): HealthCheckState {
  const { flag, value } = OPERATION_EFFECT[input.operation];
  return { ...found, [flag]: value };
}

const same = (a: HealthCheckState, b: HealthCheckState): boolean => a.inverted === b.inverted && a.disabled === b.disabled;

/** What an earlier attempt of this step recorded before it updated the same check the same way. */
function earlierUpdating(input: Input, ctx: ActionContext): Updating | undefined {
  const updating = (ctx.lastProgress as { updating?: Updating } | undefined)?.updating;
  return updating?.health_check_id === input.health_check_id && updating.operation === input.operation ? updating : undefined;
}

async function update(r53: Route53, input: Input, found: Found, target: HealthCheckState): Promise<HealthCheckState> {
  const { flag } = OPERATION_EFFECT[input.operation];
  const request = new UpdateHealthCheckCommand({
    HealthCheckId: input.health_check_id,
    ...(found.version !== undefined ? { HealthCheckVersion: found.version } : {}),
    ...(flag === 'inverted' ? { Inverted: target.inverted } : { Disabled: target.disabled }),
  });
  const updated = await r53.send(`updating health check ${input.health_check_id}`, (o) => r53.client.send(request, o));
  const now = stateOf(updated.HealthCheck);
  if (!same(now, target)) {
    throw new ActionError('check_failed', `health check ${input.health_check_id} is ${describeState(now)} after the update, not ${describeState(target)}`, {
      retryable: true,
    });
  }
  return now;
}

const output = (input: Input, fields: Omit<Output, 'health_check_id' | 'operation'>): Output => ({
  health_check_id: input.health_check_id,
  operation: input.operation,
  ...fields,
});

/**
 * Idempotent: a check already as the operation sets it is success without an update. A
 * retry after an attempt that updated and died first finds it so, and reports the previous
 * state that attempt recorded, so failback still undoes it.
 */
export const route53HealthCheckImpl = defineImpl({
  spec: route53HealthCheck,
  async run(input, ctx) {
    const earlier = earlierUpdating(input, ctx);
    let updating: Updating | undefined;
    try {
      const r53 = connect(input, ctx);
      const found = await read(r53, input.health_check_id);
      const target = targetOf(input, found.state);
      if (same(found.state, target)) {
        const previous = earlier?.previous ?? found.state;
        return output(input, { previous, current: found.state, changed: !same(previous, found.state), simulated: false });
      }
      updating = { health_check_id: input.health_check_id, operation: input.operation, previous: found.state };
      ctx.heartbeat({ phase: 'updating', updating });
      ctx.log('info', `health check ${input.health_check_id}: ${input.operation} (${describeState(found.state)} → ${describeState(target)})`);
      const current = await update(r53, input, found, target);
      return output(input, { previous: found.state, current, changed: true, simulated: false });
    } catch (error) {
      const known = updating ?? earlier;
      if (known) throw withPartial(error, { previous: known.previous, target: targetOf(input, known.previous) });
      throw error;
    }
  },
  async simulate(input, ctx) {
    try {
      const real = await read(connect(input, ctx), input.health_check_id);
      // In a drill, as an earlier simulated step (an invert before this uninvert) would have left it.
      const carried = ctx.carried?.state as HealthCheckState | undefined;
      const found = carried ? { ...real, state: carried } : real;
      const target = targetOf(input, found.state);
      const atTarget = same(found.state, target);
      const preflight = [
        `health check ${input.health_check_id} exists and can be read: it probes ${found.probes}`,
        carried
          ? `state as the earlier step "${ctx.carried!.from}" would have left it: ${describeState(carried)} (really there now: ${describeState(real.state)})`
          : `it is ${describeState(found.state)}`,
        atTarget
          ? `it is already as ${input.operation} sets it: a run would change nothing`
          : `would ${input.operation} it (${describeState(found.state)} → ${describeState(target)}); Route 53's failover follows within its request interval and failure threshold`,
      ];
      ctx.log('info', preflight.at(-1)!);
      return output(input, { previous: found.state, current: target, changed: !atTarget, simulated: true, preflight });
    } catch (error) {
      if (!(error instanceof ActionError)) throw error;
      throw new ActionError(error.code, `preflight failed: ${error.message}`, { retryable: error.retryable, cause: error });
    }
  },
});
