// The routing.switch action: read the routing state, check the guard, change it only if needed, read it back; or a preflight in drills.
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { ActionError } from '../runtime/errors.ts';
import { routingSwitch, type RoutingInput } from '../../contract/actions/routing.ts';
import { describeLocation, parseLocation, readServers, setState, setWeight, type AdminState, type Location, type ServerStatus } from './haproxy.ts';
import { elbv2Client, missingTargetGroups, readForward, where, writeForward, type Forward, type Weights } from './elbv2.ts';

type ServerSetting = { state: AdminState; weight: number };
type State = Record<string, ServerSetting> | Weights;
type Expected = NonNullable<RoutingInput['expect_current']>;

/** What the generic flow needs from a provider; `read` returns what `target` and `expect_current` are compared with. */
interface Switcher {
  read(): Promise<State>;
  /** The full state the run must leave, from the state found. */
  target(found: State): State;
  /** Whether `found` satisfies `wanted` (the target, or the guard). */
  matches(found: State, wanted: State | Expected): boolean;
  /** The part of a state reported as `previous`/`current`. */
  report(found: State): State;
  changes(found: State, target: State): string[];
  apply(found: State, target: State): Promise<void>;
  /** Checks beyond what `read` proves, as lines for the drill report. */
  preflight(found: State, target: State): Promise<string[]>;
  /** The state found, as an earlier simulated step (a drill's carried state) would have left it over what `read` found. */
  assume(found: State, carried: unknown): State;
}

const json = (value: unknown) => JSON.stringify(value);

function haproxySwitcher(config: NonNullable<RoutingInput['haproxy']>, ctx: ActionContext): Switcher {
  const location: Location = parseLocation(config.socket);
  const named = Object.keys(config.servers);
  let statuses = new Map<string, ServerStatus>();
  const pick = (found: State, names: string[]) => Object.fromEntries(names.map((n) => [n, (found as Record<string, ServerSetting>)[n]!]));
  return {
    async read() {
      statuses = await readServers(location, config.backend, ctx.signal);
      const missing = named.filter((n) => !statuses.has(n));
      if (missing.length) {
        const has = [...statuses.keys()].join(', ') || 'none';
        throw new ActionError('not_found', `HAProxy backend "${config.backend}" has no server ${missing.join(', ')} (it has ${has})`, { retryable: false });
      }
      return Object.fromEntries([...statuses].map(([n, s]) => [n, { state: s.state, weight: s.weight }]));
    },
    target: (found) =>
      Object.fromEntries(
        named.map((n) => {
          const now = (found as Record<string, ServerSetting>)[n]!;
          return [n, { state: config.servers[n]!.state ?? now.state, weight: config.servers[n]!.weight ?? now.weight }];
        }),
      ),
    // Only the fields given are compared: a guard may pin a server's state and not its weight.
    matches: (found, wanted) =>
      Object.entries(wanted).every(([n, want]) => {
        const now = (found as Record<string, ServerSetting>)[n];
        const w = want as Partial<ServerSetting>;
        return (
          now !== undefined && typeof w === 'object' && (w.state === undefined || w.state === now.state) && (w.weight === undefined || w.weight === now.weight)
        );
      }),
    report: (found) => pick(found, named),
    // Servers the earlier steps named take their simulated setting; the others stay as read.
    assume: (found, carried) =>
      Object.fromEntries(Object.entries(found).map(([n, s]) => [n, (carried as Record<string, ServerSetting> | undefined)?.[n] ?? s])),
    changes: (found, target) =>
      named.flatMap((n) => {
        const [from, to] = [(found as Record<string, ServerSetting>)[n]!, (target as Record<string, ServerSetting>)[n]!];
        return from.state === to.state && from.weight === to.weight
          ? []
          : [`${config.backend}/${n}: ${from.state} weight ${from.weight} → ${to.state} weight ${to.weight}`];
      }),
    apply: (found, target) =>
      applyHaproxy(location, config.backend, found as Record<string, ServerSetting>, target as Record<string, ServerSetting>, ctx.signal),
    async preflight(_found, target) {
      const lines = [
        `HAProxy Runtime API at ${describeLocation(location)} answers; backend "${config.backend}" has servers ${[...statuses.keys()].join(', ')}`,
      ];
      // A server put in service while its health checks say down would take no traffic.
      for (const [n, setting] of Object.entries(target as Record<string, ServerSetting>)) {
        const op = statuses.get(n)!.operational;
        if (setting.state !== 'maint' && op !== 'up') lines.push(`warning: ${config.backend}/${n} is ${op} by its health checks`);
      }
      return lines;
    },
  };
}

/**
 * Servers that will take traffic are put in service before others are taken out, so the
 * backend is never left with none during the switch: ready, then weights, then drain, then maint.
 */
async function applyHaproxy(
  location: Location,
  backend: string,
  found: Record<string, ServerSetting>,
  target: Record<string, ServerSetting>,
  signal: AbortSignal,
): Promise<void> {
  const names = Object.keys(target);
  const stateTo = (state: AdminState) => names.filter((n) => target[n]!.state === state && found[n]!.state !== state);
  for (const n of stateTo('ready')) await setState(location, backend, n, 'ready', signal);
  for (const n of names.filter((n) => target[n]!.weight !== found[n]!.weight)) await setWeight(location, backend, n, target[n]!.weight, signal);
  for (const n of stateTo('drain')) await setState(location, backend, n, 'drain', signal);
  for (const n of stateTo('maint')) await setState(location, backend, n, 'maint', signal);
}

/** The short name in a target group ARN (`…:targetgroup/NAME/ID`), for readable reports. */
const groupName = (arn: string) => arn.match(/targetgroup\/([^/]+)/)?.[1] ?? arn;

function elbv2Switcher(config: NonNullable<RoutingInput['elbv2']>, ctx: ActionContext): Switcher {
  const client = elbv2Client(config);
  let forward: Forward | undefined;
  const sameWeights = (a: Weights, b: Weights) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([arn, w]) => a[arn] === w);
  return {
    async read() {
      forward = await readForward(client, config, ctx.signal);
      return forward.weights;
    },
    target: () => config.target_groups,
    // The weight map is the whole forward: a group left out stops receiving traffic, so maps compare whole.
    matches: (found, wanted) => Object.values(wanted).every((w) => typeof w === 'number') && sameWeights(found as Weights, wanted as Weights),
    report: (found) => found,
    // The forward is whole: the earlier step's weight map replaces what was read.
    assume: (found, carried) => (carried && typeof carried === 'object' ? (carried as Weights) : found),
    changes: (found, target) => {
      const arns = [...new Set([...Object.keys(found), ...Object.keys(target)])];
      const weight = (s: State, arn: string) => (arn in s ? String((s as Weights)[arn]) : 'absent');
      return arns
        .filter((arn) => weight(found, arn) !== weight(target, arn))
        .map((arn) => `${groupName(arn)} (${arn}): weight ${weight(found, arn)} → ${weight(target, arn)}`);
    },
    apply: (_found, target) => writeForward(client, config, forward!, target as Weights, ctx.signal),
    async preflight(_found, target) {
      const missing = await missingTargetGroups(client, Object.keys(target), ctx.signal);
      if (missing.length)
        throw new ActionError('not_found', `target group${missing.length > 1 ? 's' : ''} ${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist`, {
          retryable: false,
        });
      return [`${where(config)} exists (${forward!.detail}) with a forward action`, `target groups exist: ${Object.keys(target).map(groupName).join(', ')}`];
    },
  };
}

function switcherFor(input: RoutingInput, ctx: ActionContext): Switcher {
  return input.provider === 'haproxy' ? haproxySwitcher(input.haproxy!, ctx) : elbv2Switcher(input.elbv2!, ctx);
}

/** A guard that no longer holds means someone else changed routing: stop and say what was expected and what was found. */
function checkGuard(switcher: Switcher, found: State, expected: Expected | undefined, whose = ''): void {
  if (expected === undefined || switcher.matches(found, expected)) return;
  const shown = Object.fromEntries(Object.keys(expected).map((k) => [k, (found as Record<string, unknown>)[k] ?? 'absent']));
  throw new ActionError(
    'conflict',
    `expect_current does not hold: expected ${json(expected)}, found ${json(shown)}${whose}${Object.keys(found).length > Object.keys(shown).length ? ` (all: ${json(found)})` : ''}`,
    { retryable: false },
  );
}

/**
 * In a drill: the state to preflight against — what the earlier simulated step `ctx.carried`
 * names would have left, over what is really there — and the lines saying so. The real read
 * still proves the backend answers and has what the step names.
 */
function drillFound(switcher: Switcher, real: State, ctx: ActionContext): { found: State; lines: string[]; whose: string } {
  if (!ctx.carried) return { found: real, lines: [], whose: '' };
  const found = switcher.assume(real, ctx.carried.state);
  const from = `step "${ctx.carried.from}"`;
  const line = `state as the earlier ${from} would have left it: ${json(switcher.report(found))} (really there now: ${json(switcher.report(real))})`;
  return { found, lines: [line], whose: ` (as the earlier ${from} would have left it)` };
}

export const routingSwitchImpl = defineImpl({
  spec: routingSwitch,
  async run(input, ctx) {
    const switcher = switcherFor(input, ctx);
    const found = await switcher.read();
    checkGuard(switcher, found, input.expect_current);
    const target = switcher.target(found);
    const previous = switcher.report(found);
    if (switcher.matches(found, target)) {
      ctx.log('info', 'routing already at its target: nothing changed');
      return { provider: input.provider, previous, current: previous, changed: false, simulated: false };
    }
    const changes = switcher.changes(found, target);
    ctx.log('info', `routing: ${changes.join('; ')}`);
    await switcher.apply(found, target);
    // Retryable: the next attempt reads again and applies only what is still missing.
    const after = await switcher.read();
    if (!switcher.matches(after, target)) {
      throw new ActionError('check_failed', `read back ${json(switcher.report(after))} after setting ${json(target)}`, { retryable: true });
    }
    return { provider: input.provider, previous, current: switcher.report(after), changed: true, simulated: false };
  },
  async simulate(input, ctx) {
    const switcher = switcherFor(input, ctx);
    const { found, lines, whose } = drillFound(switcher, await switcher.read(), ctx);
    checkGuard(switcher, found, input.expect_current, whose);
    const target = switcher.target(found);
    const checks = [...(await switcher.preflight(found, target)), ...lines];
    const changed = !switcher.matches(found, target);
    const changes = changed ? switcher.changes(found, target).map((c) => `would set ${c}`) : ['already at the target: a run would change nothing'];
    return {
      provider: input.provider,
      previous: switcher.report(found),
      current: switcher.report(target),
      changed,
      simulated: true,
      preflight: [...checks, ...changes],
    };
  },
});
