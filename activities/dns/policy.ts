// dns.switch's view of a record: what the step's with: asks of it, the record that leads to (a Route 53 routing-policy record keeps what the step leaves out), and the expect_current guard.
import type { z } from 'zod';
import type { dnsSwitch } from '../../contract/actions/dns.ts';
import { ActionError } from '../runtime/errors.ts';
import { describeSet, normalizeValues, sameValues, type RecordSet, type RecordType, type Target } from './records.ts';

type Input = z.output<typeof dnsSwitch.input>;
type Expect = NonNullable<Input['expect_current']>;

/** A simple record's TTL when the step gives none (and a new policy record's). */
const DEFAULT_TTL = 60;
const POLICIES = ['weight', 'failover', 'region'] as const;
const POLICY_NAMES = { weight: 'a weighted', failover: 'a failover', region: 'a latency' } as const;

/** The fields the step sets, and only those; `health_check_id: null` takes the record's health check off. */
export interface Wanted extends Partial<Omit<RecordSet, 'health_check_id'>> {
  health_check_id?: string | null;
}

/** How messages name the record: `orders.example.com. A`, and its set for a policy record. */
export const labelOf = (target: Target): string =>
  `${target.name} ${target.type}${target.set_identifier === undefined ? '' : ` set "${target.set_identifier}"`}`;

export function wanted(input: Input): Wanted {
  const w: Wanted = {};
  if (input.values) w.values = normalizeValues(input.type, input.values);
  if (input.ttl !== undefined) w.ttl = input.ttl;
  else if (input.set_identifier === undefined) w.ttl = DEFAULT_TTL;
  if (input.set_identifier === undefined) return w;
  w.set_identifier = input.set_identifier;
  for (const p of POLICIES) if (input[p] !== undefined) Object.assign(w, { [p]: input[p] });
  if (input.health_check_id !== undefined) w.health_check_id = input.health_check_id === '' ? null : input.health_check_id;
  return w;
}

const policyOf = (set: Pick<Wanted, (typeof POLICIES)[number]>) => POLICIES.find((p) => set[p] !== undefined);

/** Refuses what Route 53 could not do, or the step cannot mean: a missing record without values, a second policy on one record. */
function refuse(w: Wanted, current: RecordSet | null, target: Target, identifiers: string[]): void {
  const label = labelOf(target);
  const asked = policyOf(w);
  if (!current && !w.values) {
    const there = identifiers.length ? `the sets there are ${identifiers.map((i) => `"${i}"`).join(', ')}` : 'there is no routing-policy record there';
    throw new ActionError('not_found', `${label} does not exist (${there}); give values to create it`, { retryable: false });
  }
  if (!current && w.set_identifier !== undefined && !asked) {
    throw new ActionError('invalid_input', `${label} does not exist; a new routing-policy record needs weight, failover or region`, { retryable: false });
  }
  const has = current && policyOf(current);
  if (has && asked && has !== asked) {
    throw new ActionError(
      'invalid_input',
      `${label} is ${POLICY_NAMES[has]} record; ${asked} would make it ${POLICY_NAMES[asked]} one, which dns.switch does not do`,
      {
        retryable: false,
      },
    );
  }
}

/** The record the step leads to: what it asks, the rest as the record has it (a weight change keeps values, TTL and health check). */
export function desiredSet(w: Wanted, current: RecordSet | null, target: Target, identifiers: string[]): RecordSet {
  refuse(w, current, target, identifiers);
  const set: RecordSet = { values: w.values ?? current!.values, ttl: w.ttl ?? current?.ttl ?? DEFAULT_TTL };
  if (w.set_identifier === undefined) return set;
  set.set_identifier = w.set_identifier;
  const policy = policyOf(w) ?? policyOf(current!)!;
  Object.assign(set, { [policy]: w[policy] ?? current![policy] });
  const check = w.health_check_id === null ? undefined : (w.health_check_id ?? current?.health_check_id);
  if (check !== undefined) set.health_check_id = check;
  return set;
}

/** Whether a record (an earlier attempt's target) is what the step asks, field by field. */
export function asks(type: RecordType, w: Wanted, set: RecordSet): boolean {
  if (w.values && !sameValues(type, w.values, set.values)) return false;
  if (w.health_check_id !== undefined && (w.health_check_id ?? undefined) !== set.health_check_id) return false;
  return (['ttl', 'set_identifier', ...POLICIES] as const).every((k) => w[k] === undefined || w[k] === set[k]);
}

/**
 * Whether the record holds what `expect_current` says. A list: exactly these values ([]: no
 * such record). An object (what a failback's revert carries): the fields it gives, on a record
 * that exists — someone who changed only the TTL or the weight since made a change of their
 * own, and a revert must not undo it. `values: []` there too means no such record.
 */
export function expected(type: RecordType, expect: Expect, current: RecordSet | null): boolean {
  if (Array.isArray(expect)) return sameValues(type, expect, current?.values ?? []);
  if (expect.values?.length === 0) return current === null;
  if (!current) return false;
  if (expect.values && !sameValues(type, expect.values, current.values)) return false;
  return (expect.ttl === undefined || current.ttl === expect.ttl) && (expect.weight === undefined || current.weight === expect.weight);
}

export function describeExpected(expect: Expect): string {
  if (Array.isArray(expect)) return `[${expect.join(', ')}]`;
  if (expect.values) return describeSet({ values: expect.values, ttl: expect.ttl ?? -1, ...(expect.weight !== undefined ? { weight: expect.weight } : {}) });
  return [expect.ttl !== undefined ? `ttl ${expect.ttl}` : '', expect.weight !== undefined ? `weight ${expect.weight}` : ''].filter(Boolean).join(', ') || '{}';
}
