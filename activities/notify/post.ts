// One JSON POST to a notification service, its answer sorted as those services document it: 2xx sent, 429 waits Retry-After, other 4xx final, 5xx and network errors retried.
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import { redact } from '../http/transport.ts';

/** The longest Retry-After the next attempt waits: a notification must not hold a run's end for long. */
const MAX_RETRY_AFTER_MS = 60_000;

export interface Posted {
  status: number;
  body: string;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\s*(\d{1,7})\s*$/.exec(header);
  const ms = seconds ? Number(seconds[1]) * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * POSTs `body` as JSON and returns the 2xx answer; anything else throws an ActionError whose
 * retry verdict follows the answer. `where` names the channel in messages, never the URL's
 * path or query, which may be the credential (a Slack or Teams webhook).
 */
export async function postJson(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; timeout: string; where: string; signal: AbortSignal; raw?: string },
): Promise<Posted> {
  const text = options.raw ?? JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: headersOf(options.headers),
      body: text,
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(parseDuration(options.timeout) ?? 10_000)]),
    });
  } catch (error) {
    if (options.signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeout}` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new ActionError('unreachable', `${options.where}: ${reason}`, { retryable: true });
  }
  const answer = (await response.text()).slice(0, 2000);
  if (response.status >= 200 && response.status < 300) return { status: response.status, body: answer };
  throw answerError(response.status, answer, response.headers.get('retry-after'), options.where, url);
}

/** The channel's headers, then Rebound's own set over them by name in any case (a channel cannot add a second Content-Type). */
function headersOf(extra: Record<string, string> = {}): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  headers.set('content-type', 'application/json');
  headers.set('user-agent', 'rebound');
  return headers;
}

function answerError(status: number, body: string, retryAfter: string | null, where: string, url: string): ActionError {
  const said = `${where} answered ${status}${body.trim() ? `: ${body.trim().slice(0, 300)}` : ''}`;
  if (status === 429) {
    const wait = retryAfterMs(retryAfter);
    return new ActionError('unreachable', `${said} (rate limited${wait !== undefined ? `; retrying after ${Math.round(wait / 1000)}s` : ''})`, {
      retryable: true,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    });
  }
  if (status >= 500) return new ActionError('unreachable', said, { retryable: true });
  if (status >= 300 && status < 400) return new ActionError('rejected', `${said} (a redirect from ${redact(url)} is not followed)`, { retryable: false });
  if (status === 401 || status === 403) return new ActionError('auth_failed', said, { retryable: false });
  return new ActionError('rejected', said, { retryable: false });
}
