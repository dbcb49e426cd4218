// EC2 plumbing for the volume actions: one client per region, failures by kind, tag filters, and polling waits that heartbeat.
import { EC2Client, type Filter, type Tag } from '@aws-sdk/client-ec2';
import type { Ec2Access } from '../../contract/ec2.ts';
import { ActionError } from '../runtime/errors.ts';
import { pause } from '../runtime/pause.ts';
import type { ActionContext } from '../runtime/wrap.ts';

export { VOLUME_KIND } from './kind.ts';

/** What Rebound tags its snapshots and volumes with: how a retry finds what an earlier attempt created. */
export const TAG = {
  point: 'rebound:restore-point',
  volume: 'rebound:volume',
  source: 'rebound:source-volume',
  run: 'rebound:run',
  step: 'rebound:step',
  service: 'rebound:service',
} as const;

export function ec2Client(access: Ec2Access | undefined, region: string): EC2Client {
  const a = access ?? {};
  return new EC2Client({
    region,
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
    ...(a.access_key && a.secret_key ? { credentials: { accessKeyId: a.access_key, secretAccessKey: a.secret_key } } : {}),
    // One attempt per activity attempt: the step's retry policy decides how long to keep trying.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

const DENIED = new Set(['AuthFailure', 'UnauthorizedOperation', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'OptInRequired', 'Blocked']);
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'SnapshotCreationPerVolumeRateExceeded',
  'ConcurrentSnapshotLimitExceeded',
]);

/**
 * EC2 errors by kind: a missing volume, snapshot or instance, bad credentials or a request EC2
 * rejects fail the same way next time; throttling, 5xx and no answer (endpoint down) may not.
 */
export function ec2Error(what: string, error: unknown): ActionError {
  if (error instanceof ActionError) return error;
  const e = error as { name?: string; Code?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.Code ?? e.name ?? 'Error';
  const message = `${what}: ${name}: ${e.message ?? String(error)}`;
  if (name.endsWith('.NotFound') || name.endsWith('NotFound'))
    return new ActionError('not_found', `${message} (check the id and the region)`, { retryable: false, cause: error });
  if (DENIED.has(name)) return new ActionError('auth_failed', `${message} (check the access key in the secret)`, { retryable: false, cause: error });
  const status = e.$metadata?.httpStatusCode;
  const client = e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500);
  const retryable = THROTTLED.has(name) || status === 429 || !client;
  return new ActionError(client && !retryable ? 'rejected' : 'unreachable', message, { retryable, cause: error });
}

export async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw ec2Error(what, error);
  }
}

export const tagFilters = (tags: Record<string, string>): Filter[] => Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
export const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Polls until `ready` says done (true) or throws; every poll heartbeats. Past the deadline: retryable, the work goes on in EC2. */
export async function waitUntil<T>(
  what: string,
  poll: () => Promise<T>,
  ready: (value: T) => boolean,
  options: { deadline: number; timeout: string; ctx: ActionContext; interval?: number },
): Promise<T> {
  const { ctx } = options;
  for (let delay = 1_000; ; delay = Math.min(delay * 2, options.interval ?? 15_000)) {
    const value = await poll();
    if (ready(value)) return value;
    if (ctx.signal.aborted) throw new ActionError('cancelled', `cancelled while waiting for ${what}`, { retryable: false });
    if (Date.now() > options.deadline)
      throw new ActionError('timeout', `${what} did not finish within ${options.timeout}; the next attempt picks it up where it is`, { retryable: true });
    await pause(delay, ctx.signal);
  }
}
