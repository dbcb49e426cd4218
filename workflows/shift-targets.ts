// What one step of a traffic.shift asks of a backend: the routing.switch or dns.switch calls that set two targets' weights, and the weights they report.
import type { TrafficShiftInput, Weights } from '../contract/actions/traffic.ts';
import type { PlanStep } from '../contract/plan.ts';

/** One activity call: the action, its `with:`, and the part of the plan's `with:` it came from (for secret paths). */
export interface SwitchCall {
  uses: 'routing.switch' | 'dns.switch';
  backend: string;
  input: Record<string, unknown>;
  template: Record<string, unknown>;
}

/** A provider's side of a shift: the calls that set weights (guarded), and the weights of from and to in what they report. */
export interface ShiftTarget {
  calls(weights: Weights, guard: Weights | undefined): SwitchCall[];
  /** The weights of from and to, from the outputs of one step's calls: `previous` (before) or `current` (after). */
  weightsOf(outputs: Record<string, unknown>[], which: 'previous' | 'current'): Weights;
  /** What must hold before any weight moves (an HAProxy server in maintenance takes no traffic at any weight). */
  refuse(outputs: Record<string, unknown>[]): string | undefined;
}

type Server = { state: string; weight: number };

function haproxyTarget(step: PlanStep, shift: TrafficShiftInput): ShiftTarget {
  const { from, to } = shift;
  const template = { haproxy: step.with.haproxy };
  return {
    calls: (weights, guard) => [
      {
        uses: 'routing.switch',
        backend: 'routing',
        template,
        input: {
          provider: 'haproxy',
          haproxy: { ...shift.haproxy!, servers: { [from]: { weight: weights[from]! }, [to]: { weight: weights[to]! } } },
          ...(guard ? { expect_current: { [from]: { weight: guard[from]! }, [to]: { weight: guard[to]! } } } : {}),
        },
      },
    ],
    weightsOf: ([outputs], which) => {
      const servers = (outputs?.[which] ?? {}) as Record<string, Server>;
      return { [from]: servers[from]?.weight ?? 0, [to]: servers[to]?.weight ?? 0 };
    },
    refuse: ([outputs]) => {
      const servers = (outputs?.previous ?? {}) as Record<string, Server>;
      const down = [from, to].find((n) => servers[n] && servers[n]!.state !== 'ready');
      return down
        ? `HAProxy server ${shift.haproxy!.backend}/${down} is in ${servers[down]!.state}: weight moves no traffic there; put it in service first (routing.switch state: ready)`
        : undefined;
    },
  };
}

function elbv2Target(step: PlanStep, shift: TrafficShiftInput): ShiftTarget {
  const { from, to } = shift;
  // The forward's other target groups keep their weights: the map routing.switch sets is the whole forward.
  let others: Weights = {};
  return {
    calls: (weights, guard) => [
      {
        uses: 'routing.switch',
        backend: 'routing',
        template: { elbv2: step.with.elbv2 },
        input: {
          provider: 'aws-elbv2',
          elbv2: { ...shift.elbv2!, target_groups: { ...others, [from]: weights[from]!, [to]: weights[to]! } },
          ...(guard ? { expect_current: { ...others, [from]: guard[from]!, [to]: guard[to]! } } : {}),
        },
      },
    ],
    weightsOf: ([outputs], which) => {
      const map = (outputs?.[which] ?? {}) as Weights;
      if (which === 'previous') others = Object.fromEntries(Object.entries(map).filter(([arn]) => arn !== from && arn !== to));
      return { [from]: map[from] ?? 0, [to]: map[to] ?? 0 };
    },
    refuse: () => undefined,
  };
}

function route53Target(step: PlanStep, shift: TrafficShiftInput): ShiftTarget {
  const { from, to } = shift;
  const { zone, name, type, ...connection } = shift.route53!;
  const record = (id: string, weight: number, guard: number | undefined): SwitchCall => ({
    uses: 'dns.switch',
    backend: 'dns',
    template: { route53: step.with.route53 },
    input: {
      provider: 'route53',
      zone,
      name,
      type,
      set_identifier: id,
      weight,
      route53: connection,
      ...(guard !== undefined ? { expect_current: { weight: guard } } : {}),
    },
  });
  return {
    // The record gaining weight first: the name never has less weight in total than before or after.
    calls: (weights, guard) => {
      const gaining = guard && weights[from]! > guard[from]! ? from : to;
      const losing = gaining === from ? to : from;
      return [record(gaining, weights[gaining]!, guard?.[gaining]), record(losing, weights[losing]!, guard?.[losing])];
    },
    weightsOf: (outputs, which) => {
      const weights: Weights = {};
      for (const o of outputs) {
        const set = o[which] as { set_identifier?: string; weight?: number } | null | undefined;
        if (set?.set_identifier !== undefined) weights[set.set_identifier] = set.weight ?? 0;
      }
      return { [from]: weights[from] ?? 0, [to]: weights[to] ?? 0 };
    },
    refuse: () => undefined,
  };
}

export function shiftTarget(step: PlanStep, shift: TrafficShiftInput): ShiftTarget {
  switch (shift.provider) {
    case 'haproxy':
      return haproxyTarget(step, shift);
    case 'aws-elbv2':
      return elbv2Target(step, shift);
    case 'route53':
      return route53Target(step, shift);
  }
}

/** The weights a step asks for: a percentage on `to` (out of 100), or the two weights as given. */
export function weightsOfStep(shift: TrafficShiftInput, step: number | Weights): Weights {
  return typeof step === 'number' ? { [shift.from]: 100 - step, [shift.to]: step } : step;
}
