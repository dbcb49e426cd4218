// Connecting to MongoDB with the official driver: short timeouts, failures mapped to retryable or not, no credentials in identity.
import { MongoClient, MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { ActionError } from '../runtime/errors.ts';

/** Server error codes worth a retry: shutdowns, elections, network trouble seen by the server. */
const TRANSIENT_CODES = new Set([1, 6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
/** Authentication and authorisation: a retry cannot fix a wrong password or a missing role. */
const AUTH_CODES = new Set([13, 18]);

export function isRetryable(error: unknown): boolean {
  if (error instanceof MongoServerError) return !AUTH_CODES.has(Number(error.code)) && TRANSIENT_CODES.has(Number(error.code));
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return !authFailure(error);
  if (error instanceof MongoError) return error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError');
  return !(error instanceof ActionError) || error.retryable;
}

/** A failed handshake can reach us wrapped in a server-selection error; its cause says why. */
function authFailure(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof MongoServerError && AUTH_CODES.has(Number(e.code))) return true;
    if (e instanceof Error && /authentication failed|auth(entication)? error|password authentication/i.test(e.message)) return true;
  }
  return false;
}

/** Turns any driver error into an ActionError with a masked, readable message. */
export function mongoFailure(error: unknown, doing: string, mask: (t: string) => string): ActionError {
  if (error instanceof ActionError) return error;
  const message = mask(error instanceof Error ? error.message : String(error));
  if (authFailure(error))
    return new ActionError('auth_failed', `${doing}: authentication failed (check the user and password in the secret): ${message}`, {
      retryable: false,
      cause: undefined,
    });
  const code = error instanceof MongoServerError ? ` (code ${String(error.code)}${error.codeName ? ` ${error.codeName}` : ''})` : '';
  return new ActionError('backend_error', `${doing}: ${message}${code}`, { retryable: isRetryable(error) });
}

/** Where a URL points, for manifests and reports: hosts, user, database; never the password. */
export function identity(url: string): { hosts: string[]; user?: string; database?: string } {
  const match = /^mongodb(?:\+srv)?:\/\/(?:([^@/]*)@)?([^/?]+)(?:\/([^?]*))?/.exec(url);
  if (!match) throw new ActionError('invalid_input', 'the connection string is not a mongodb:// or mongodb+srv:// URL', { retryable: false });
  const user = match[1] ? decodeURIComponent(match[1].split(':')[0]!) : undefined;
  const database = match[3] ? decodeURIComponent(match[3]) : undefined;
  return { hosts: match[2]!.split(','), ...(user ? { user } : {}), ...(database ? { database } : {}) };
}

/** Runs `fn` with a connected client and closes it, whatever happens; every failure leaves as an ActionError. */
export async function withMongo<T>(url: string, mask: (t: string) => string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  identity(url);
  const client = new MongoClient(url, {
    appName: 'rebound',
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: 10_000,
    // Reads of one collection may wait on a slow server; the heartbeat timeout bounds the step.
    socketTimeoutMS: 0,
    retryReads: true,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw mongoFailure(error, 'cannot connect', mask);
  }
  try {
    return await fn(client);
  } catch (error) {
    throw mongoFailure(error, 'mongodb', mask);
  } finally {
    await client.close(true).catch(() => undefined);
  }
}

export interface ServerInfo {
  version: string;
  setName?: string;
  maxWireVersion: number;
}

/** `hello` and `buildInfo`: what the manifest records and what snapshot reads depend on. */
export async function serverInfo(client: MongoClient): Promise<ServerInfo> {
  const admin = client.db('admin');
  const hello = await admin.command({ hello: 1 });
  const build = await admin.command({ buildInfo: 1 });
  return {
    version: String(build.version ?? 'unknown'),
    ...(typeof hello.setName === 'string' ? { setName: hello.setName } : {}),
    maxWireVersion: Number(hello.maxWireVersion ?? 0),
  };
}
