// The RabbitMQ management HTTP API as Rebound calls it: credentials from the URL into a header, every failure classified and named.
import { ActionError } from '../runtime/errors.ts';

export interface Broker {
  /** http(s)://host:port without credentials or path: what messages and manifests name. */
  origin: string;
  host: string;
  port: number;
  user: string;
  authorization: string;
}

/** The management API a secret's URL points at; the password never leaves the Authorization header. */
export function parseBrokerUrl(url: string): Broker {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActionError('invalid_input', 'the connection string is not a URL; give the management API as http://user:password@host:15672', {
      retryable: false,
    });
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname)
    throw new ActionError('invalid_input', 'the connection string must be the management API as http(s)://user:password@host:15672', { retryable: false });
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  if (!user || !password)
    throw new ActionError('invalid_input', 'the management API URL names no user:password; the API needs both (http://user:password@host:15672)', {
      retryable: false,
    });
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return {
    origin: `${parsed.protocol}//${parsed.host}`,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    user,
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
}

/** `/api/…/<vhost>/<name>` path segments: "/" and every other character the API reads escaped. */
export const seg = (name: string) => encodeURIComponent(name);

function networkReason(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}

/** The API's own explanation ({"error", "reason"}), else the start of the body. */
function apiReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string; reason?: unknown };
    if (parsed.reason !== undefined) return `${parsed.error ?? 'error'}: ${typeof parsed.reason === 'string' ? parsed.reason : JSON.stringify(parsed.reason)}`;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 300) || '(empty body)';
}

export interface CallOptions {
  signal: AbortSignal;
  mask: (text: string) => string;
  body?: unknown;
  timeoutMs?: number;
  /** Statuses the caller handles itself (404: "missing" is an answer). */
  accept?: number[];
}

/**
 * One request. Down, restarting (503) or overloaded brokers are retried; refused credentials,
 * missing rights and rejected definitions are not. The body stays unread for the caller.
 */
export async function request(broker: Broker, method: string, path: string, options: CallOptions): Promise<Response> {
  const what = `RabbitMQ management API at ${broker.origin}`;
  let response: Response;
  try {
    response = await fetch(`${broker.origin}${path}`, {
      method,
      headers: {
        authorization: broker.authorization,
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 60_000)]),
    });
  } catch (error) {
    throw new ActionError('unreachable', `${what} did not answer ${method} ${path} (${networkReason(error)})`, { retryable: true });
  }
  if (response.ok || options.accept?.includes(response.status)) return response;
  const text = options.mask(await response.text().catch(() => ''));
  if (response.status === 401)
    throw new ActionError('auth_failed', `${what} refused the credentials of user "${broker.user}" (HTTP 401); check the password in the secret`, {
      retryable: false,
    });
  if (response.status === 403)
    throw new ActionError(
      'auth_failed',
      `${what}: user "${broker.user}" may not ${method} ${path} (HTTP 403); definitions need a user tagged administrator: ${apiReason(text)}`,
      { retryable: false },
    );
  const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
  throw new ActionError(retryable ? 'unreachable' : 'rejected', `${what} answered ${method} ${path} with HTTP ${response.status}: ${apiReason(text)}`, {
    retryable,
  });
}

/** A request whose JSON answer is read whole; a body cut off by a broker going down is retried. */
export async function call<T>(broker: Broker, method: string, path: string, options: CallOptions): Promise<{ status: number; body: T | undefined }> {
  const response = await request(broker, method, path, options);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ActionError('unreachable', `RabbitMQ management API at ${broker.origin} stopped answering ${method} ${path} (${networkReason(error)})`, {
      retryable: true,
    });
  }
  if (!text || !response.ok) return { status: response.status, body: undefined };
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new ActionError('unreachable', `RabbitMQ management API at ${broker.origin} answered ${method} ${path} with something that is not JSON`, {
      retryable: true,
    });
  }
}
