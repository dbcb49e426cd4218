// etcd's v3 API through its HTTP gateway (JSON over HTTP, bytes as base64): authenticate, count and read keys, stream a snapshot.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { ActionError } from '../runtime/errors.ts';

export interface Member {
  endpoint: string;
  token?: string;
  signal: AbortSignal;
  mask: (text: string) => string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

async function post(member: Member, path: string, body: unknown): Promise<Response> {
  try {
    const response = await fetch(new URL(path, member.endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(member.token ? { authorization: member.token } : {}) },
      body: JSON.stringify(body),
      signal: member.signal,
    });
    if (response.ok) return response;
    const text = member.mask((await response.text()).slice(0, 500));
    const denied = response.status === 401 || /authentication failed|invalid auth token|user name is empty|permission denied/i.test(text);
    throw new ActionError(
      denied ? 'authentication_failed' : 'etcd_error',
      `${path}: HTTP ${response.status}: ${text}${denied ? ' (check the user and password in the secret)' : ''}`,
      {
        retryable: !denied && response.status >= 500,
      },
    );
  } catch (error) {
    if (error instanceof ActionError || member.signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ActionError('unreachable', `cannot reach etcd at ${member.endpoint}${path}: ${cause}`, { retryable: true });
  }
}

/** A token for the user, when the cluster has authentication enabled. */
export async function authenticate(member: Member, auth: { user: string; password: string } | undefined): Promise<Member> {
  if (!auth) return member;
  const { token } = (await (await post(member, '/v3/auth/authenticate', { name: auth.user, password: auth.password })).json()) as { token: string };
  return { ...member, token };
}

/** How many keys the member holds, and at which revision. */
export async function keyCount(member: Member): Promise<{ keys: number; revision: number }> {
  // key "\0" with range_end "\0" is every key.
  const reply = (await (await post(member, '/v3/kv/range', { key: b64('\0'), range_end: b64('\0'), count_only: true })).json()) as {
    count?: string;
    header?: { revision?: string };
  };
  return { keys: Number(reply.count ?? 0), revision: Number(reply.header?.revision ?? 0) };
}

export async function keyExists(member: Member, key: string): Promise<boolean> {
  const reply = (await (await post(member, '/v3/kv/range', { key: b64(key), count_only: true })).json()) as { count?: string };
  return Number(reply.count ?? 0) > 0;
}

/** The snapshot as the member streams it: one JSON message per line, each with a base64 chunk of the database file. */
export async function* snapshotChunks(member: Member): AsyncGenerator<Buffer> {
  const response = await post(member, '/v3/maintenance/snapshot', {});
  const lines = createInterface({ input: Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream), crlfDelay: Infinity });
  let last: string | undefined;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as { result?: { blob?: string; remaining_bytes?: string }; error?: { message?: string } };
    if (message.error)
      throw new ActionError('etcd_error', `snapshot stream: ${member.mask(message.error.message ?? JSON.stringify(message.error))}`, { retryable: true });
    if (message.result?.blob) yield Buffer.from(message.result.blob, 'base64');
    last = message.result?.remaining_bytes;
  }
  // The last message says no bytes remain; a stream cut short never does.
  if (last !== undefined && Number(last) !== 0)
    throw new ActionError('snapshot_truncated', `the snapshot stream ended with ${last} bytes remaining`, { retryable: true });
}
