// RabbitMQ definitions documents: parsed, counted, cut down to one vhost, and compared with what a broker holds.
import type { FailureCode } from '../../contract/failures.ts';
import { ActionError } from '../runtime/errors.ts';

interface Named {
  name: string;
  vhost?: string;
}

export interface Binding {
  vhost?: string;
  source: string;
  destination: string;
  destination_type: string;
  routing_key: string;
  arguments?: Record<string, unknown>;
}

/** What `/api/definitions` returns; a vhost's export has no users, vhosts or permissions and no `vhost` fields. */
export interface Definitions {
  rabbit_version?: string;
  rabbitmq_version?: string;
  users?: { name: string }[];
  vhosts?: { name: string }[];
  permissions?: unknown[];
  topic_permissions?: unknown[];
  parameters?: Named[];
  global_parameters?: unknown[];
  policies?: Named[];
  queues?: Named[];
  exchanges?: Named[];
  bindings?: Binding[];
  [other: string]: unknown;
}

export interface Counts {
  vhosts: number;
  users: number;
  queues: number;
  exchanges: number;
  bindings: number;
  policies: number;
}

const LISTS = ['users', 'vhosts', 'permissions', 'topic_permissions', 'parameters', 'global_parameters', 'policies', 'queues', 'exchanges', 'bindings'];

/** Parses a definitions document, refusing (as `code`) anything that is not one. */
export function parseDefinitions(text: string, code: FailureCode, retryable: boolean): Definitions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ActionError(code, `the definitions are not valid JSON (${(error as Error).message}; ${text.length} characters)`, { retryable });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ActionError(code, 'the definitions are not a JSON object', { retryable });
  const defs = parsed as Definitions;
  const wrong = LISTS.filter((key) => defs[key] !== undefined && !Array.isArray(defs[key]));
  if (wrong.length || (!defs.rabbit_version && !defs.rabbitmq_version))
    throw new ActionError(code, `the definitions are not RabbitMQ's (${wrong.length ? `${wrong.join(', ')} not lists` : 'no rabbit_version'})`, { retryable });
  return defs;
}

/** The counts a manifest records; a vhost's export counts its one vhost. */
export function countsOf(defs: Definitions, vhost?: string): Counts {
  return {
    vhosts: defs.vhosts?.length ?? (vhost ? 1 : 0),
    users: defs.users?.length ?? 0,
    queues: defs.queues?.length ?? 0,
    exchanges: defs.exchanges?.length ?? 0,
    bindings: defs.bindings?.length ?? 0,
    policies: defs.policies?.length ?? 0,
  };
}

/** Every vhost a whole-broker document names, in its `vhosts` list or on its objects. */
export function vhostsOf(defs: Definitions): string[] {
  const names = new Set((defs.vhosts ?? []).map((v) => v.name));
  for (const key of ['queues', 'exchanges', 'bindings', 'policies', 'parameters'] as const) for (const o of defs[key] ?? []) if (o.vhost) names.add(o.vhost);
  return [...names].sort();
}

function strip<T extends { vhost?: string }>(list: T[] | undefined, vhost: string | undefined): T[] {
  return (list ?? []).filter((o) => vhost === undefined || o.vhost === vhost).map(({ vhost: _v, ...rest }) => rest as T);
}

/**
 * What `POST /api/definitions/<vhost>` takes: one vhost's queues, exchanges, bindings,
 * policies and parameters, without vhost fields. `from` picks the vhost of a whole-broker
 * document; undefined means the document is already one vhost's.
 */
export function vhostSlice(defs: Definitions, from: string | undefined): Definitions {
  return {
    rabbit_version: defs.rabbit_version ?? defs.rabbitmq_version,
    ...(defs.rabbitmq_version ? { rabbitmq_version: defs.rabbitmq_version } : {}),
    parameters: strip(defs.parameters, from),
    policies: strip(defs.policies, from),
    queues: strip(defs.queues, from),
    exchanges: strip(defs.exchanges, from),
    bindings: strip(defs.bindings, from),
  };
}

/** Sorted object keys, so that two brokers' arguments compare equal whatever order they print them in. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const at = (o: { vhost?: string }) => (o.vhost === undefined ? '' : `${o.vhost}: `);
export const bindingLabel = (b: Binding) =>
  `${at(b)}${b.source || '(default exchange)'} → ${b.destination_type} ${b.destination}${b.routing_key ? ` (${b.routing_key})` : ''}`;
const bindingKey = (b: Binding) => `${b.vhost ?? ''}\0${b.source}\0${b.destination_type}\0${b.destination}\0${b.routing_key}\0${canonical(b.arguments ?? {})}`;

/** What `expected` declares that `actual` lacks: queues, exchanges and bindings, by vhost and name. */
export function missingFrom(expected: Definitions, actual: Definitions): string[] {
  const names = (list: Named[] | undefined) => new Set((list ?? []).map((o) => `${o.vhost ?? ''}\0${o.name}`));
  const queues = names(actual.queues);
  const exchanges = names(actual.exchanges);
  const bindings = new Set((actual.bindings ?? []).map(bindingKey));
  return [
    ...(expected.queues ?? []).filter((q) => !queues.has(`${q.vhost ?? ''}\0${q.name}`)).map((q) => `queue ${at(q)}${q.name}`),
    ...(expected.exchanges ?? []).filter((e) => !exchanges.has(`${e.vhost ?? ''}\0${e.name}`)).map((e) => `exchange ${at(e)}${e.name}`),
    ...(expected.bindings ?? []).filter((b) => !bindings.has(bindingKey(b))).map((b) => `binding ${bindingLabel(b)}`),
  ];
}

/** Items joined for a message, cut short past `max` with how many more there are. */
export function listed(items: string[], max = 10): string {
  return `${items.slice(0, max).join('; ')}${items.length > max ? `; and ${items.length - max} more` : ''}`;
}
