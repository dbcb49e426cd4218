// The HTTP actions' transport: one bounded request (TLS verification optional), URLs redacted in messages, expected-status matching.
import { Agent } from 'undici';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';

let insecure: Agent | undefined;

export interface HttpResponse {
  status: number;
  body: string;
  /** Lower-case names (as fetch gives them); repeated headers joined by ", ". */
  headers: Record<string, string>;
  latency_ms: number;
}

/** One bounded HTTP request. Network errors and timeouts are retryable; the caller decides the rest. */
export async function send(
  input: { url: string; method: string; headers: Record<string, string>; body?: string; timeout: string; tls_verify: boolean },
  signal: AbortSignal,
): Promise<HttpResponse> {
  const timeoutMs = parseDuration(input.timeout) ?? 10_000;
  const started = performance.now();
  try {
    const response = await fetch(input.url, {
      method: input.method,
      headers: input.headers,
      ...(input.body !== undefined ? { body: input.body } : {}),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      redirect: 'manual',
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: input.tls_verify ? undefined : (insecure ??= new Agent({ connect: { rejectUnauthorized: false } })),
    });
    const body = await response.text();
    return { status: response.status, body, headers: Object.fromEntries(response.headers), latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${input.timeout}` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new ActionError('unreachable', `${input.method} ${redact(input.url)}: ${reason}`, { retryable: true });
  }
}

/** URLs in messages lose their query string and credentials: both may carry tokens. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const hadQuery = u.search !== '';
    u.search = '';
    return `${u.toString()}${hadQuery ? '?…' : ''}`;
  } catch {
    return '(invalid url)';
  }
}

export function statusMatches(status: number, expected: number | number[]): boolean {
  return Array.isArray(expected) ? expected.includes(status) : status === expected;
}
