// rabbitmq.import: a point's definitions read and checked against its sha256, POSTed to a broker (whole or one vhost), then read back object by object.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rabbitmqImport } from '../../contract/actions/rabbitmq.ts';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { call, parseBrokerUrl, seg, type Broker } from './api.ts';
import { countsOf, listed, missingFrom, parseDefinitions, vhostSlice, vhostsOf, type Definitions } from './definitions.ts';
import { RABBITMQ_KIND } from './export.ts';

/** The point's definitions, refused (without retry) when their bytes differ from the manifest's. */
export async function readDefinitions(points: RestorePoints, point: RestorePoint, ctx: ActionContext): Promise<Definitions> {
  if (point.kind !== RABBITMQ_KIND)
    throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not RabbitMQ definitions`, { retryable: false });
  const chunks: Buffer[] = [];
  const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'download', bytes }));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await pipeline(await points.open(point), digest, sink, { signal: ctx.signal });
  if (digest.sha256 !== point.sha256 || digest.bytes !== point.size)
    throw new ActionError(
      'verification_failed',
      `${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size}, ${point.sha256}; nothing was imported`,
      { retryable: false },
    );
  return parseDefinitions(Buffer.concat(chunks).toString('utf8'), 'verification_failed', false);
}

export interface Scope {
  /** The vhost to import into; undefined: the whole broker. */
  vhost?: string | undefined;
  /** Which vhost of a whole-broker point (default: its only one). */
  from?: string | undefined;
  users: boolean;
}

/** The vhost of a whole-broker document that a one-vhost import takes. */
function pickVhost(defs: Definitions, from: string | undefined, pointId: string): string {
  const vhosts = vhostsOf(defs);
  if (from !== undefined) {
    if (vhosts.includes(from)) return from;
    throw new ActionError('invalid_input', `restore point ${pointId} holds no vhost "${from}" (it has ${vhosts.join(', ') || 'none'})`, { retryable: false });
  }
  if (vhosts.length === 1) return vhosts[0]!;
  throw new ActionError('invalid_input', `restore point ${pointId} holds vhosts ${vhosts.join(', ')}; name the one to import with from_vhost`, {
    retryable: false,
  });
}

/** Creates the vhost when the broker lacks it; a vhost's definitions can only be posted into an existing one. */
async function ensureVhost(broker: Broker, vhost: string, ctx: ActionContext): Promise<void> {
  const options = { signal: ctx.signal, mask: ctx.mask };
  const path = `/api/vhosts/${seg(vhost)}`;
  const { status } = await call(broker, 'GET', path, { ...options, accept: [404] });
  if (status !== 404) return;
  await call(broker, 'PUT', path, { ...options, body: {} });
  ctx.log('info', `created vhost ${vhost} on ${broker.origin}`);
}

/**
 * Posts `defs` in `scope` and reads the broker's definitions back; returns what was expected
 * there and what is missing. A POST is one transaction on the broker's side, so running it
 * again after a failure converges.
 */
export async function importInto(broker: Broker, defs: Definitions, scope: Scope, pointVhost: string | undefined, ctx: ActionContext) {
  const options = { signal: ctx.signal, mask: ctx.mask };
  let expected: Definitions;
  let path: string;
  if (scope.vhost !== undefined) {
    if (pointVhost !== undefined && scope.from !== undefined && scope.from !== pointVhost)
      throw new ActionError('invalid_input', `from_vhost: the point holds only vhost "${pointVhost}"`, { retryable: false });
    expected = vhostSlice(defs, pointVhost === undefined ? pickVhost(defs, scope.from, 'the point') : undefined);
    path = `/api/definitions/${seg(scope.vhost)}`;
    await ensureVhost(broker, scope.vhost, ctx);
  } else {
    const { users: _u, permissions: _p, topic_permissions: _t, ...rest } = defs;
    expected = scope.users ? defs : rest;
    path = '/api/definitions';
  }
  ctx.heartbeat({ phase: 'import' });
  await call(broker, 'POST', path, { ...options, body: expected, timeoutMs: 300_000 });
  ctx.heartbeat({ phase: 'read back' });
  const actual = await call<Definitions>(broker, 'GET', path, options).catch((error: unknown) => {
    const replaced = scope.vhost === undefined && scope.users && (defs.users ?? []).some((u) => u.name === broker.user);
    if (error instanceof ActionError && error.code === 'auth_failed' && replaced)
      throw new ActionError(
        'auth_failed',
        `the import set user "${broker.user}" to the point's password hash, and the secret's password no longer works on ${broker.origin}; use that user's password from the source broker, or import with users: false`,
        { retryable: false },
      );
    throw error;
  });
  return { expected, missing: missingFrom(expected, actual.body ?? {}) };
}

export const rabbitmqImportImpl = defineImpl({
  spec: rabbitmqImport,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    const broker = parseBrokerUrl(input.target);
    const defs = await readDefinitions(points, point, ctx);
    const pointVhost = typeof point.source.vhost === 'string' ? point.source.vhost : undefined;
    // A vhost's point goes back into a vhost: its own name unless another is given.
    const vhost = input.vhost ?? pointVhost;
    const { expected, missing } = await importInto(broker, defs, { vhost, from: input.from_vhost, users: input.users }, pointVhost, ctx);
    if (missing.length)
      throw new ActionError('check_failed', `after importing ${point.id}, ${broker.origin} lacks ${missing.length}: ${listed(missing)}`, {
        retryable: true,
      });
    const counts = countsOf(expected);
    ctx.log(
      'info',
      `imported ${point.id} into ${broker.origin}${vhost === undefined ? '' : ` vhost ${vhost}`}: ${counts.queues} queues, ${counts.exchanges} exchanges, ${counts.bindings} bindings present`,
    );
    return {
      ...restoredOutput(point),
      target: `${broker.host}:${broker.port}`,
      vhost: vhost ?? null,
      queues: counts.queues,
      exchanges: counts.exchanges,
      bindings: counts.bindings,
    };
  },
});
