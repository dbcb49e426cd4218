// HAProxy's Runtime API (stats socket) over TCP or a unix socket: read server states, set state and weight.
import { connect, type Socket } from 'node:net';
import { ActionError } from '../runtime/errors.ts';

export type AdminState = 'ready' | 'drain' | 'maint';

export interface ServerStatus {
  state: AdminState;
  weight: number;
  /** What traffic sees: `up` unless health checks or maintenance took the server out. */
  operational: 'down' | 'starting' | 'up' | 'stopping';
}

export type Location = { host: string; port: number } | { path: string };

/** `tcp://host:port` or `unix:///path`, as the action's `with.haproxy.socket` takes them. */
export function parseLocation(socket: string): Location {
  if (socket.startsWith('unix://')) return { path: socket.slice('unix://'.length) };
  const url = new URL(socket);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
}

export function describeLocation(location: Location): string {
  return 'path' in location ? `unix://${location.path}` : `tcp://${location.host}:${location.port}`;
}

// Codes that mean nothing listens there (yet, or any more): HAProxy restarting, or stopped.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function connectionError(location: Location, error: NodeJS.ErrnoException): ActionError {
  const where = `HAProxy Runtime API at ${describeLocation(location)}`;
  return new ActionError(error.code === 'EACCES' ? 'auth_failed' : 'unreachable', `${where}: ${error.code ?? error.message}`, {
    retryable: UNREACHABLE.has(error.code ?? ''),
    cause: error,
  });
}

/**
 * One command, one connection: in its non-interactive mode the Runtime API answers and
 * closes, so the answer is everything read until the end of the stream.
 */
export function command(location: Location, line: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in location ? connect({ path: location.path }) : connect({ host: location.host, port: location.port });
    let answer = '';
    const fail = (error: Error) => (socket.destroy(), reject(error));
    const onAbort = () => fail(new ActionError('cancelled', 'cancelled', { retryable: false }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(options.timeoutMs ?? 5_000, () =>
      fail(new ActionError('timeout', `HAProxy Runtime API at ${describeLocation(location)} did not answer "${line}" in time`, { retryable: true })),
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => fail(connectionError(location, error)));
    socket.on('close', () => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve(answer);
    });
  });
}

// srv_admin_state bits, as HAProxy's own SRV_ADMF_MAINT and SRV_ADMF_DRAIN masks read them:
// forced, inherited and resolver maintenance; forced and inherited drain. CMAINT (0x04)
// stays set after `set server … state ready` on a server the configuration marked
// `disabled` (it only remembers the configuration), and 0x40 records an FQDN change:
// neither means the server is out of service.
const MAINT_BITS = 0x01 | 0x02 | 0x20;
const DRAIN_BITS = 0x08 | 0x10;
const OPERATIONAL = ['down', 'starting', 'up', 'stopping'] as const;

function adminState(bits: number): AdminState {
  if (bits & MAINT_BITS) return 'maint';
  if (bits & DRAIN_BITS) return 'drain';
  return 'ready';
}

/**
 * Parses `show servers state <backend>`: a format version line, a `#` header naming the
 * columns, then one row per server. Columns are found by name, not position, because
 * newer HAProxy versions append columns.
 */
export function parseServersState(text: string): Map<string, ServerStatus> {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) throw new ActionError('backend_error', `unexpected answer to "show servers state": ${text.trim().slice(0, 200)}`, { retryable: false });
  const columns = header.slice(1).trim().split(/\s+/);
  const at = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new ActionError('backend_error', `"show servers state" has no ${name} column`, { retryable: false });
    return i;
  };
  const [name, admin, op, weight] = [at('srv_name'), at('srv_admin_state'), at('srv_op_state'), at('srv_uweight')];
  const servers = new Map<string, ServerStatus>();
  for (const row of lines.filter((l) => !l.startsWith('#') && /\s/.test(l))) {
    const cells = row.split(/\s+/);
    servers.set(cells[name]!, {
      state: adminState(Number(cells[admin])),
      weight: Number(cells[weight]),
      operational: OPERATIONAL[Number(cells[op])] ?? 'down',
    });
  }
  return servers;
}

/** Every server of a backend; an unknown backend is a mistake in the runbook, not worth retrying. */
export async function readServers(location: Location, backend: string, signal?: AbortSignal): Promise<Map<string, ServerStatus>> {
  const answer = await command(location, `show servers state ${backend}`, { signal });
  if (/can't find backend/i.test(answer)) {
    throw new ActionError('not_found', `HAProxy at ${describeLocation(location)} has no backend "${backend}"`, { retryable: false });
  }
  if (/permission denied/i.test(answer)) {
    throw new ActionError('auth_failed', `HAProxy at ${describeLocation(location)}: permission denied (the stats socket needs "level admin")`, {
      retryable: false,
    });
  }
  return parseServersState(answer);
}

/**
 * `set server` answers an empty line when it did the change and a sentence when it
 * refused (no such backend or server, weight out of range, level too low): refusals are
 * deterministic, so they are not retried.
 */
async function set(location: Location, line: string, signal?: AbortSignal): Promise<void> {
  const answer = (await command(location, line, { signal })).trim();
  if (answer === '') return;
  const missing = /no such (backend|server)/i.test(answer);
  throw new ActionError(missing ? 'not_found' : 'rejected', `HAProxy at ${describeLocation(location)} refused "${line}": ${answer.slice(0, 200)}`, {
    retryable: false,
  });
}

export function setState(location: Location, backend: string, server: string, state: AdminState, signal?: AbortSignal): Promise<void> {
  return set(location, `set server ${backend}/${server} state ${state}`, signal);
}

export function setWeight(location: Location, backend: string, server: string, weight: number, signal?: AbortSignal): Promise<void> {
  return set(location, `set server ${backend}/${server} weight ${weight}`, signal);
}
