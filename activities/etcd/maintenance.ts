// etcd's Maintenance.Snapshot over gRPC (the same port as the HTTP gateway): the database file's chunks as protobuf bytes, no JSON or base64.
import { credentials, Client, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ActionError } from '../runtime/errors.ts';
import type { Member } from './gateway.ts';

/** The two messages of etcd's rpc.proto the snapshot call uses (field numbers as in etcdserverpb). */
const messages = protobuf.Root.fromJSON({
  nested: {
    SnapshotRequest: { fields: {} },
    SnapshotResponse: {
      fields: {
        remaining_bytes: { type: 'uint64', id: 2 },
        blob: { type: 'bytes', id: 3 },
      },
    },
  },
});
const SnapshotRequest = messages.lookupType('SnapshotRequest');
const SnapshotResponse = messages.lookupType('SnapshotResponse');

interface Chunk {
  remaining_bytes?: number | { toNumber(): number };
  blob?: Uint8Array;
}

const remaining = (chunk: Chunk) => (typeof chunk.remaining_bytes === 'object' ? chunk.remaining_bytes.toNumber() : (chunk.remaining_bytes ?? 0));

/** etcd answers a bad or expired token with INVALID_ARGUMENT, not UNAUTHENTICATED. */
function failure(member: Member, error: ServiceError): ActionError {
  const text = member.mask(error.details || error.message);
  const denied =
    error.code === Status.UNAUTHENTICATED || error.code === Status.PERMISSION_DENIED || /auth token|authentication failed|permission denied/i.test(text);
  if (denied) return new ActionError('auth_failed', `snapshot: ${text} (check the user and password in the secret)`, { retryable: false });
  const transient = [
    Status.UNAVAILABLE,
    Status.DEADLINE_EXCEEDED,
    Status.RESOURCE_EXHAUSTED,
    Status.ABORTED,
    Status.INTERNAL,
    Status.UNKNOWN,
    Status.CANCELLED,
  ];
  return new ActionError(error.code === Status.UNAVAILABLE ? 'unreachable' : 'backend_error', `snapshot stream from ${member.endpoint}: ${text}`, {
    retryable: transient.includes(error.code),
  });
}

/** The snapshot as the member streams it, chunk by chunk, with the stream's backpressure. */
export async function* snapshotChunks(member: Member): AsyncGenerator<Buffer> {
  const url = new URL(member.endpoint);
  const client = new Client(url.host, url.protocol === 'https:' ? credentials.createSsl() : credentials.createInsecure(), {
    // One chunk is 32 KiB; the default 4 MiB limit only guards against a misbehaving peer.
    'grpc.max_receive_message_length': 64 << 20,
  });
  const metadata = new Metadata();
  if (member.token) metadata.set('token', member.token);
  const call = client.makeServerStreamRequest(
    '/etcdserverpb.Maintenance/Snapshot',
    () => Buffer.from(SnapshotRequest.encode(SnapshotRequest.create({})).finish()),
    (bytes: Buffer) => SnapshotResponse.toObject(SnapshotResponse.decode(bytes), { longs: Number }) as Chunk,
    {},
    metadata,
  );
  const abort = () => call.cancel();
  member.signal.addEventListener('abort', abort, { once: true });
  let left: number | undefined;
  try {
    for await (const chunk of call as AsyncIterable<Chunk>) {
      if (chunk.blob?.length) yield Buffer.from(chunk.blob.buffer, chunk.blob.byteOffset, chunk.blob.byteLength);
      left = remaining(chunk);
    }
  } catch (error) {
    if (member.signal.aborted) throw error;
    throw (error as ServiceError).code !== undefined ? failure(member, error as ServiceError) : error;
  } finally {
    member.signal.removeEventListener('abort', abort);
    call.cancel();
    client.close();
  }
  // The last message says no bytes remain; a stream cut short never does.
  if (left !== 0) throw new ActionError('backend_error', `the snapshot stream ended with ${left ?? 'all'} bytes remaining`, { retryable: true });
}
