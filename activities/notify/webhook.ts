// Generic webhooks: the message as JSON, signed as `rebound serve` checks a request (X-Rebound-Timestamp, X-Rebound-Signature: sha256=HMAC(key, "<timestamp>." + body)).
import { createHmac } from 'node:crypto';
import type { Message } from './message.ts';
import { postJson } from './post.ts';

/** The signature headers for `body` at `now`; the receiver refuses a timestamp outside its window, so a captured request cannot be replayed later. */
export function signatureHeaders(key: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return { 'x-rebound-timestamp': timestamp, 'x-rebound-signature': `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}` };
}

export async function sendWebhook(
  channel: { url: string; key?: string | undefined; headers: Record<string, string> },
  m: Message,
  options: { timeout: string; where: string; signal: AbortSignal },
): Promise<string> {
  const body = JSON.stringify({ ...m, sent_at: new Date().toISOString() });
  // The signature is set over any header of the same name, whatever its case.
  const own = Object.fromEntries(Object.entries(channel.headers).filter(([name]) => !/^x-rebound-(signature|timestamp)$/i.test(name)));
  const headers = { ...own, ...(channel.key ? signatureHeaders(channel.key, body) : {}) };
  const answer = await postJson(channel.url, undefined, { ...options, headers, raw: body });
  return `${answer.status}`;
}
