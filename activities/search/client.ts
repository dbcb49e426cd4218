// The Elasticsearch/OpenSearch REST calls the search actions make: basic auth, masked errors mapped to retryable or not, polling with heartbeats.
import { searchFailureCode } from '../../contract/failures.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';

export interface Cluster {
  /** scheme://host:port, without credentials: what points record and messages name. */
  url: string;
  authorization?: string;
  ctx: ActionContext;
}

/** Errors a retry cannot fix: the request or the repository is wrong, or a snapshot or index is missing. */
const PERMANENT = new Set([
  'repository_exception',
  'repository_verification_exception',
  'repository_missing_exception',
  'snapshot_missing_exception',
  'invalid_snapshot_name_exception',
  'snapshot_restore_exception',
  'index_not_found_exception',
  'illegal_argument_exception',
  'parsing_exception',
  'x_content_parse_exception',
  'action_request_validation_exception',
  'resource_already_exists_exception',
  'invalid_index_name_exception',
]);

/** A request the cluster refused or failed; `type` is its error type (`repository_exception`), for the actions that handle one. */
export class SearchError extends ActionError {
  constructor(
    readonly type: string,
    message: string,
    retryable: boolean,
  ) {
    super(retryable ? 'backend_error' : searchFailureCode(type), message, { retryable });
  }
}

export function connect(input: { cluster: string; username?: string | undefined; password?: string | undefined }, ctx: ActionContext): Cluster {
  let url: URL;
  try {
    url = new URL(input.cluster);
  } catch {
    throw new ActionError('invalid_input', 'cluster is not a URL; give http(s)://host:port of a node', { retryable: false });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ActionError('invalid_input', `cluster must be an http:// or https:// URL, not ${url.protocol}`, { retryable: false });
  const user = url.username ? decodeURIComponent(url.username) : input.username;
  const password = url.password ? decodeURIComponent(url.password) : input.password;
  const cluster: Cluster = { url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`, ctx };
  if (password !== undefined || user !== undefined) {
    if (password) ctx.conceal(password);
    const token = Buffer.from(`${user ?? ''}:${password ?? ''}`).toString('base64');
    ctx.conceal(token);
    cluster.authorization = `Basic ${token}`;
  }
  return cluster;
}

export interface Reply<T> {
  status: number;
  body: T;
}

interface ErrorReply {
  error?: { type?: string; reason?: string; caused_by?: { reason?: string } } | string;
}

function reasonOf(body: ErrorReply | string): { type: string; reason: string } {
  const error = typeof body === 'object' ? body?.error : undefined;
  if (error && typeof error === 'object') {
    const cause = error.caused_by?.reason ? ` (${error.caused_by.reason})` : '';
    return { type: String(error.type ?? 'error'), reason: `${error.reason ?? JSON.stringify(error).slice(0, 500)}${cause}` };
  }
  return { type: 'error', reason: typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body ?? '').slice(0, 500) };
}

/**
 * One REST call. Statuses in `accept` come back to the caller (404 of a snapshot that does
 * not exist yet); others throw: unreachable, 5xx and 429 as retryable, the rest not.
 */
export async function call<T = unknown>(
  cluster: Cluster,
  method: string,
  path: string,
  what: string,
  options: { body?: unknown; accept?: number[] } = {},
): Promise<Reply<T>> {
  const { ctx } = cluster;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (cluster.authorization) headers.authorization = cluster.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${cluster.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(120_000)]),
    });
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new ActionError('unreachable', ctx.mask(`${what}: cannot reach ${cluster.url}: ${cause}`), { retryable: true, cause: error });
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // a proxy's HTML error page: kept as text for the message
  }
  // The caller names the shape it reads; the cluster's JSON is trusted that far.
  if (res.ok || options.accept?.includes(res.status)) return { status: res.status, body: body as T };
  if (res.status === 401 || res.status === 403)
    throw new ActionError('auth_failed', `${what}: ${res.status} from ${cluster.url} (check the user and password in the secret)`, { retryable: false });
  const { type, reason } = reasonOf(body as ErrorReply | string);
  const retryable = (res.status >= 500 || res.status === 429) && !PERMANENT.has(type);
  throw new SearchError(type, ctx.mask(`${what}: ${res.status} ${type}: ${reason}`), retryable);
}

/** `call` for the body alone. */
export async function get<T>(cluster: Cluster, path: string, what: string): Promise<T> {
  return (await call<T>(cluster, 'GET', path, what)).body;
}

/** Index names as a path segment: comma-separated, each encoded. */
export const indexPath = (names: readonly string[]) => names.map(encodeURIComponent).join(',');

/** Open indices matching `patterns` (names, wildcards, -exclusions), sorted. */
export async function resolveIndices(cluster: Cluster, patterns: readonly string[]): Promise<string[]> {
  const { status, body } = await call<{ index: string }[]>(
    cluster,
    'GET',
    `/_cat/indices/${indexPath(patterns)}?format=json&h=index&expand_wildcards=open`,
    'listing indices',
    {
      accept: [404],
    },
  );
  if (status === 404) return [];
  return body.map((r) => r.index).sort();
}

/** Top-level documents per index (refreshed first, so what was written is counted). */
export async function countDocuments(cluster: Cluster, indices: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  if (!indices.length) return counts;
  await call(cluster, 'POST', `/${indexPath(indices)}/_refresh`, 'refreshing indices');
  for (const index of indices)
    counts[index] = Number((await get<{ count: number }>(cluster, `/${encodeURIComponent(index)}/_count`, `counting documents in ${index}`)).count);
  return counts;
}
