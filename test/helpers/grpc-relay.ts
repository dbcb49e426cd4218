// An HTTP/2 relay in front of the real Temporal frontend that fails the starts of chosen workflow ids until released: one start of a batch fails while the rest reach the server.
import { connect, createServer, constants, type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';

const START = '/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution';

export interface GrpcRelay {
  /** `127.0.0.1:<port>`, to give a client as TEMPORAL_ADDRESS instead of the server's. */
  address: string;
  /**
   * Answers every StartWorkflowExecution of `workflowId` with this gRPC status without passing
   * it on; other requests and other ids reach the server. The default, 4 (DEADLINE_EXCEEDED),
   * is what a frontend answers when the history shard owning the id did not answer in time:
   * the client gives up at once (it retries UNAVAILABLE itself, for some 20 s).
   */
  failStarts(workflowId: string, code?: number): void;
  /** How many starts of `workflowId` were failed so far. */
  failed(workflowId: string): number;
  release(): void;
  close(): Promise<void>;
}

/** A gRPC message is framed: 1 byte "compressed", 4 bytes length, the protobuf. */
function startedId(body: Buffer): string | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  return temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.decode(body.subarray(5, 5 + body.readUInt32BE(1))).workflowId;
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === ':scheme' || name === 'connection') continue;
    out[name] = value;
  }
  return out;
}

/** A trailers-only answer, as a gRPC server sends for an error. */
function refuse(stream: ServerHttp2Stream, code: number): void {
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': 'held fault in the test relay' },
    { endStream: true },
  );
}

/** Unary calls only (all of WorkflowService is): the request is read whole, then passed on with its answer streamed back. */
function pass(upstream: ClientHttp2Session, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer): void {
  const up = upstream.request(forwardable(headers), { endStream: false });
  up.end(body);
  let trailers: Record<string, string | string[]> | undefined;
  up.on('response', (answer, flags) => {
    const endsHere = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    if (stream.destroyed) return;
    stream.respond(forwardable(answer), endsHere ? { endStream: true } : { waitForTrailers: true });
  });
  up.on('trailers', (t) => (trailers = forwardable(t)));
  stream.on('wantTrailers', () => stream.sendTrailers(trailers ?? { 'grpc-status': '13', 'grpc-message': 'relay: no trailers from the server' }));
  up.on('data', (chunk) => stream.destroyed || stream.write(chunk));
  up.on('end', () => stream.destroyed || stream.end());
  up.on('error', () => stream.destroy());
  stream.on('close', () => up.destroyed || up.close());
}

export async function startGrpcRelay(upstreamAddress: string): Promise<GrpcRelay> {
  const upstream = connect(`http://${upstreamAddress}`);
  upstream.on('error', () => undefined);
  const faults = new Map<string, number>();
  const counts = new Map<string, number>();
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const id = headers[':path'] === START ? startedId(body) : undefined;
      const code = id === undefined ? undefined : faults.get(id);
      if (id !== undefined && code !== undefined) {
        counts.set(id, (counts.get(id) ?? 0) + 1);
        return refuse(stream, code);
      }
      pass(upstream, stream, headers, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    failStarts: (workflowId, code = 4) => void faults.set(workflowId, code),
    failed: (workflowId) => counts.get(workflowId) ?? 0,
    release: () => faults.clear(),
    close: async () => {
      for (const s of sessions) s.destroy();
      upstream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
