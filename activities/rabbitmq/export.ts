// rabbitmq.export: GET /api/definitions (whole broker or one vhost) streamed through sha256 into a restore point, with what it holds counted.
import { Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { rabbitmqExport } from '../../contract/actions/rabbitmq.ts';
import { commitStreamed, committedOutput, openStepPoint, type RestorePoint, streamIntoPoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { call, parseBrokerUrl, request, seg } from './api.ts';
import { countsOf, parseDefinitions, type Counts } from './definitions.ts';

export const RABBITMQ_KIND = 'rabbitmq';
export const DEFINITIONS_OBJECT = 'definitions.json';

const COUNTS: (keyof Counts)[] = ['vhosts', 'users', 'queues', 'exchanges', 'bindings', 'policies'];

/** The counts a point's manifest recorded at export. */
export const recordedCounts = (point: RestorePoint): Counts => Object.fromEntries(COUNTS.map((k) => [k, Number(point.source[k] ?? 0)])) as unknown as Counts;

const outputOf = (point: RestorePoint, object: string) => ({ ...committedOutput(point, object), ...recordedCounts(point) });

export const rabbitmqExportImpl = defineImpl({
  spec: rabbitmqExport,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, RABBITMQ_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const broker = parseBrokerUrl(input.source);
    const options = { signal: ctx.signal, mask: ctx.mask };
    const path = input.vhost === undefined ? '/api/definitions' : `/api/definitions/${seg(input.vhost)}`;
    const started = new Date().toISOString();
    // Asked first: for a missing vhost the definitions endpoint answers a bare 400.
    if (input.vhost !== undefined && (await call(broker, 'GET', `/api/vhosts/${seg(input.vhost)}`, { ...options, accept: [404] })).status === 404)
      throw new ActionError('not_found', `${broker.origin} has no vhost "${input.vhost}"`, { retryable: false });
    const response = await request(broker, 'GET', path, { ...options, accept: [404] });
    if (response.status === 404)
      throw new ActionError(
        'invalid_input',
        `${broker.origin} has no ${path}: give the management API's URL (port 15672 by default, rabbitmq_management enabled)`,
        {
          retryable: false,
        },
      );
    const chunks: Buffer[] = [];
    // Kept to count what the point holds; definitions are a broker's metadata, not its messages.
    const keep = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done(null, chunk);
      },
    });
    // Which side failed decides the message: the broker going away mid-answer, or storage.
    let cutOff: Error | undefined;
    const body = Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
    body.once('error', (error) => (cutOff = error));
    const parse = () => parseDefinitions(Buffer.concat(chunks).toString('utf8'), 'backend_error', true);
    const failure = (error: unknown): never => {
      if (error instanceof ActionError) throw error;
      if (cutOff) throw new ActionError('unreachable', `${broker.origin} stopped sending the definitions mid-answer (${cutOff.message})`, { retryable: true });
      throw error;
    };
    const streamed = streamIntoPoint(draft, DEFINITIONS_OBJECT, { body }, ctx, { through: [keep], settle: parse });
    const { digest, settled: defs } = await streamed.catch(failure);
    const counts = countsOf(defs, input.vhost);
    const version = defs.rabbitmq_version ?? defs.rabbit_version ?? 'unknown';
    const point = await commitStreamed(
      draft,
      { object: DEFINITIONS_OBJECT, digest, started_at: started, input, ctx },
      {
        source: {
          api: broker.origin,
          host: broker.host,
          port: broker.port,
          ...(input.vhost === undefined ? {} : { vhost: input.vhost }),
          user: broker.user,
          ...counts,
        },
        tool: { name: 'RabbitMQ management API (GET /api/definitions)', version },
        server_version: version,
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes, ${COUNTS.map((k) => `${counts[k]} ${k}`).join(', ')}`);
    return outputOf(point, points.keyOf(point));
  },
});
