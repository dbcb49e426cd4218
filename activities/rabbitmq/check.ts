// rabbitmq.check: queues (with consumer and message minimums), exchanges and bindings of a vhost, looked up one by one through the management API.
import { rabbitmqCheck } from '../../contract/actions/rabbitmq.ts';
import type { CheckResult } from '../../contract/actions/checks.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { call, parseBrokerUrl, seg, type Broker, type CallOptions } from './api.ts';
import { bindingLabel, type Binding } from './definitions.ts';

interface QueueInfo {
  consumers?: number;
  messages?: number;
}

type QueueCheck = string | { name: string; min_consumers?: number | undefined; min_messages?: number | undefined };
type BindingCheck = { source: string; destination: string; destination_type: 'queue' | 'exchange'; routing_key?: string | undefined };

async function checkQueue(broker: Broker, vhost: string, check: QueueCheck, options: CallOptions): Promise<CheckResult> {
  const spec = typeof check === 'string' ? { name: check } : check;
  const { status, body } = await call<QueueInfo>(broker, 'GET', `/api/queues/${seg(vhost)}/${seg(spec.name)}`, { ...options, accept: [404] });
  if (status === 404 || !body) return { check: `queue ${spec.name}`, ok: false, detail: 'missing' };
  // Counters arrive with the broker's statistics; a queue that has none yet reports 0.
  const consumers = body.consumers ?? 0;
  const messages = body.messages ?? 0;
  const short: string[] = [];
  if (spec.min_consumers !== undefined && consumers < spec.min_consumers) short.push(`${consumers} consumers (need ${spec.min_consumers})`);
  if (spec.min_messages !== undefined && messages < spec.min_messages) short.push(`${messages} messages (need ${spec.min_messages})`);
  return { check: `queue ${spec.name}`, ok: !short.length, detail: short.length ? short.join(', ') : `exists: ${consumers} consumers, ${messages} messages` };
}

async function checkExchange(broker: Broker, vhost: string, name: string, options: CallOptions): Promise<CheckResult> {
  const { status } = await call(broker, 'GET', `/api/exchanges/${seg(vhost)}/${seg(name)}`, { ...options, accept: [404] });
  return { check: `exchange ${name}`, ok: status !== 404, detail: status === 404 ? 'missing' : 'exists' };
}

async function checkBinding(broker: Broker, vhost: string, b: BindingCheck, options: CallOptions): Promise<CheckResult> {
  const kind = b.destination_type === 'queue' ? 'q' : 'e';
  const path = `/api/bindings/${seg(vhost)}/e/${seg(b.source)}/${kind}/${seg(b.destination)}`;
  const { status, body } = await call<Binding[]>(broker, 'GET', path, { ...options, accept: [404] });
  const label = `binding ${bindingLabel({ ...b, routing_key: b.routing_key ?? '' })}`;
  // 404: the exchange or the destination itself is missing.
  if (status === 404 || !body) return { check: label, ok: false, detail: `missing (no ${b.source} exchange or no ${b.destination_type} ${b.destination})` };
  const found = body.filter((x) => b.routing_key === undefined || x.routing_key === b.routing_key);
  return {
    check: label,
    ok: found.length > 0,
    detail: found.length ? 'exists' : body.length ? `missing; bound with ${body.map((x) => JSON.stringify(x.routing_key)).join(', ')}` : 'missing',
  };
}

/** A failed check is retryable: right after an import or a failover, consumers may still be connecting. */
export const rabbitmqCheckImpl = defineImpl({
  spec: rabbitmqCheck,
  async run(input, ctx) {
    const broker = parseBrokerUrl(input.target);
    const options = { signal: ctx.signal, mask: ctx.mask };
    const { status } = await call(broker, 'GET', `/api/vhosts/${seg(input.vhost)}`, { ...options, accept: [404] });
    if (status === 404) throw new ActionError('check_failed', `${broker.origin} has no vhost "${input.vhost}"`, { retryable: true });
    const checks: CheckResult[] = [];
    for (const q of input.queues) checks.push(await checkQueue(broker, input.vhost, q, options));
    for (const e of input.exchanges) checks.push(await checkExchange(broker, input.vhost, e, options));
    for (const b of input.bindings) checks.push(await checkBinding(broker, input.vhost, b, options));
    const failed = checks.filter((c) => !c.ok);
    if (failed.length)
      throw new ActionError('check_failed', `vhost ${input.vhost}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, { retryable: true });
    ctx.log('info', `vhost ${input.vhost} on ${broker.origin}: ${checks.length} checks passed`);
    return { checks };
  },
});
