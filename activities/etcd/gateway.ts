// etcd's v3 API through its HTTP gateway (JSON over HTTP, bytes as base64): authenticate, count and read keys (the snapshot goes over gRPC).
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
      denied ? 'auth_failed' : 'backend_error',
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
