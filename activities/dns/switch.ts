// The dns.switch action: read the record, check the guard, switch it idempotently and verify; in drills, a preflight that reports the change.
import { Context } from '@temporalio/activity';
import type { z } from 'zod';
import { dnsSwitch, fqdn } from '../../contract/actions/dns.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { drillRecord } from './drill.ts';
import { powerDnsProvider } from './powerdns.ts';
import { route53Provider } from './route53.ts';
import { asks, describeExpected, desiredSet, expected, labelOf, wanted, type Wanted } from './policy.ts';
import { describeSet, normalizeValues, sameSet, type DnsProvider, type RecordSet, type Target, type Wait } from './records.ts';

type Input = z.output<typeof dnsSwitch.input>;
type Output = z.input<typeof dnsSwitch.output>;

/** What reading found, and where the step wants the record to be. */
interface Situation {
  provider: DnsProvider;
  target: Target;
  zone: string;
  sets: Map<string, RecordSet>;
  /** The routing-policy records of the target's name and type, by SetIdentifier. */
  identifiers: string[];
  current: RecordSet | null;
  desired: RecordSet;
  /** In a drill: `current` is what an earlier simulated step would have left (drill.ts); the line saying so, and what is really there. */
  carried?: { line: string; real: RecordSet | null };
}

/** Kept in every heartbeat once writing starts, so a retry after a crash still knows what the record held before. */
interface Switching {
  name: string;
  type: string;
  to: RecordSet;
  previous: RecordSet | null;
}

function providerFor(input: Input, signal: AbortSignal): DnsProvider {
  if (input.provider === 'powerdns') return powerDnsProvider(input.powerdns!, signal);
  return route53Provider(input.route53 ?? { region: 'us-east-1' }, signal);
}

const targetOf = (input: Input): Target => ({
  zone: fqdn(input.zone),
  name: fqdn(input.name),
  type: input.type,
  ...(input.set_identifier === undefined ? {} : { set_identifier: input.set_identifier }),
});

async function survey(input: Input, ctx: ActionContext): Promise<Situation> {
  const target = targetOf(input);
  const provider = providerFor(input, ctx.signal);
  const { zone, sets, identifiers = [] } = await provider.read(target);
  const found = sets.get(target.type);
  const real = found ? { ...found, values: normalizeValues(target.type, found.values) } : null;
  const { current, line } = drillRecord(ctx, real);
  const desired = desiredSet(wanted(input), current, target, identifiers);
  return { provider, target, zone, sets, identifiers, current, desired, ...(line ? { carried: { line, real } } : {}) };
}

/** Refuses a change the operator did not expect, or one DNS forbids (a CNAME beside other records). Returns what it proved. */
function guard(input: Input, s: Situation): string[] {
  const { name, type } = s.target;
  const label = labelOf(s.target);
  const proved: string[] = [];
  if (input.expect_current) {
    if (!expected(type, input.expect_current, s.current)) {
      throw new ActionError(
        'conflict',
        `${label} holds ${describeSet(s.current)}, but expect_current is ${describeExpected(input.expect_current)}; it changed since the plan was made, so it is left alone`,
        { retryable: false },
      );
    }
    proved.push(`expect_current matches: ${label} holds ${describeSet(s.current)}`);
  }
  const others = [...s.sets.keys()].filter((t) => t !== type && (type === 'CNAME' || t === 'CNAME'));
  if (others.length > 0) {
    throw new ActionError('conflict', `${name} already has ${others.join(', ')} records; a CNAME cannot share its name with other records`, {
      retryable: false,
    });
  }
  proved.push(type === 'CNAME' ? `no other records at ${name} stop a CNAME` : `no CNAME at ${name} stops an ${type} record`);
  return proved;
}

/** What an earlier attempt of this step recorded before it wrote, if it was switching the same record to the same target. */
function earlierSwitching(target: Target, asked: Wanted): Switching | undefined {
  let details: { switching?: Switching } | undefined;
  try {
    details = Context.current().info.heartbeatDetails as { switching?: Switching } | undefined;
  } catch {
    return undefined; // not inside an activity
  }
  const switching = details?.switching;
  if (!switching || switching.name !== target.name || switching.type !== target.type || !asks(target.type, asked, switching.to)) return undefined;
  return switching;
}

function attemptNumber(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // not inside an activity
  }
}

/**
 * What a failure tells a failback (PartialChange): once a switch is under way — this attempt's
 * or an earlier one's, from its heartbeat — the record it found and the one it was setting.
 * Only a first attempt that failed before writing knows it changed nothing; a later one may
 * follow an attempt that wrote without its heartbeat arriving, so it claims nothing.
 */
function failedWith(error: unknown, switching: Switching | undefined, found: RecordSet | null | undefined): unknown {
  if (switching) return withPartial(error, { previous: switching.previous, target: switching.to });
  if (attemptNumber() === 1) return withPartial(error, found === undefined ? { changed: false } : { previous: found, changed: false });
  return error;
}

function waitFor(input: Input, ctx: ActionContext, switching: Switching): Wait {
  return {
    deadline: Date.now() + parseDuration(input.verify_timeout)!,
    timeout: input.verify_timeout,
    signal: ctx.signal,
    heartbeat: (progress) => ctx.heartbeat({ ...progress, switching }),
  };
}

/** Resolvers that cached the old answer keep it for up to its TTL; a record that did not exist converges at once (negative caching aside). */
const convergedBy = (previous: RecordSet | null): string => new Date(Date.now() + (previous?.ttl ?? 0) * 1000).toISOString();

function result(input: Input, s: Situation, fields: Pick<Output, 'previous' | 'changed' | 'simulated'> & Partial<Output>): Output {
  return {
    provider: input.provider,
    name: s.target.name,
    type: s.target.type,
    current: s.desired,
    converged_by: convergedBy(fields.changed ? fields.previous : null),
    ...fields,
  };
}

async function write(input: Input, s: Situation, switching: Switching, ctx: ActionContext): Promise<Output> {
  ctx.heartbeat({ phase: 'writing', switching });
  ctx.log('info', `setting ${labelOf(s.target)} from ${describeSet(switching.previous)} to ${describeSet(s.desired)}`);
  await s.provider.write(s.target, s.desired, waitFor(input, ctx, switching));
  return result(input, s, { previous: switching.previous, changed: true, simulated: false });
}

/** An earlier attempt wrote the change and died before seeing it live: verify it, and write nothing a second time. */
async function finish(input: Input, s: Situation, switching: Switching, ctx: ActionContext): Promise<Output> {
  if (!s.provider.verify) return write(input, s, switching, ctx);
  ctx.heartbeat({ phase: 'verifying', switching });
  ctx.log('info', `${labelOf(s.target)} already holds ${describeSet(s.desired)} from an earlier attempt; verifying it`);
  await s.provider.verify(s.target, s.desired, waitFor(input, ctx, switching));
  return result(input, s, { previous: switching.previous, changed: true, simulated: false });
}

/** A drill's view of the whole policy: which records share the answers (the step changes only its own). */
const routingPolicy = (s: Situation): string =>
  `${s.target.name} ${s.target.type} is answered by routing-policy records ${s.identifiers.map((i) => `"${i}"`).join(', ')}; Route 53 evaluates the policy itself, so no DNS query can verify one record's share`;

/**
 * UPSERT semantics: already at the target is success without a write. That check comes
 * before expect_current, so a retry after a crash that had already switched converges
 * instead of tripping over its own change; an earlier attempt's heartbeat supplies the
 * `previous` it found, so failback still knows where to go back to.
 */
export const dnsSwitchImpl = defineImpl({
  spec: dnsSwitch,
  async run(input, ctx) {
    const target = targetOf(input);
    let switching = earlierSwitching(target, wanted(input));
    let found: RecordSet | null | undefined;
    try {
      const s = await survey(input, ctx);
      found = s.current;
      if (sameSet(s.target.type, s.current, s.desired)) {
        // Written by an earlier attempt that may not have seen it take effect: verify it (providers that cannot, write again: a no-op).
        if (switching && !sameSet(s.target.type, switching.previous, s.desired)) return await finish(input, s, switching, ctx);
        return result(input, s, { previous: s.current, changed: false, simulated: false });
      }
      guard(input, s);
      switching = { name: s.target.name, type: s.target.type, to: s.desired, previous: s.current };
      return await write(input, s, switching, ctx);
    } catch (error) {
      throw failedWith(error, switching, found);
    }
  },
  async simulate(input, ctx) {
    try {
      const s = await survey(input, ctx);
      const label = labelOf(s.target);
      const atTarget = sameSet(s.target.type, s.current, s.desired);
      const preflight = [`${s.zone} exists and can be read`, s.carried?.line ?? `${label} holds ${describeSet(s.current)}`];
      if (s.identifiers.length > 0) preflight.push(routingPolicy(s));
      if (!atTarget) preflight.push(...guard(input, s));
      // The provider compares what its DNS answers with what its API holds: the real record, carried or not.
      preflight.push(...(await s.provider.preflight(s.target, s.carried ? s.carried.real : s.current)));
      preflight.push(
        atTarget
          ? `${label} is already ${describeSet(s.desired)}: a run would change nothing`
          : `would set ${label} from ${describeSet(s.current)} to ${describeSet(s.desired)}`,
      );
      ctx.log('info', preflight.at(-1)!);
      return result(input, s, { previous: s.current, changed: !atTarget, simulated: true, preflight });
    } catch (error) {
      if (!(error instanceof ActionError)) throw error;
      throw new ActionError(error.code, `preflight failed: ${error.message}`, { retryable: error.retryable, cause: error });
    }
  },
});
