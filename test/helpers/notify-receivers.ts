// Test helper: loopback stand-ins for Slack, Teams, PagerDuty Events v2 and a signed webhook that check each request against the provider's published format and answer as the provider does (2xx, 400 with its error body, 429 with Retry-After, 5xx).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { z } from 'zod';

/**
 * Slack's incoming webhooks (api.slack.com/messaging/webhooks, Block Kit reference): `text` or
 * `blocks`; at most 50 blocks; a header's plain_text 150 characters, a section's text 3000,
 * 10 fields of 2000; a button's text 75 and its url 3000.
 */
const text = (max: number, type?: 'plain_text' | 'mrkdwn') =>
  z.strictObject({ type: type ? z.literal(type) : z.enum(['plain_text', 'mrkdwn']), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const SlackBlock = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('header'), text: text(150, 'plain_text') }),
  z.strictObject({ type: z.literal('section'), text: text(3000).optional(), fields: z.array(text(2000)).max(10).optional() }),
  z.strictObject({ type: z.literal('context'), elements: z.array(text(3000)).max(10) }),
  z.strictObject({
    type: z.literal('actions'),
    elements: z.array(z.strictObject({ type: z.literal('button'), text: text(75, 'plain_text'), url: z.url().max(3000) })).max(25),
  }),
]);
export const SlackMessage = z
  .object({ text: z.string().max(40_000).optional(), blocks: z.array(SlackBlock).max(50).optional() })
  .refine((m) => m.text || m.blocks, 'no_text');

/** Teams Workflows ("when a Teams webhook request is received"): a message whose attachments are Adaptive Cards. */
const TextRun = z.union([z.string(), z.object({ type: z.literal('TextRun'), text: z.string() }).loose()]);
const CardElement = z.union([
  z.object({ type: z.literal('RichTextBlock'), inlines: z.array(TextRun).min(1) }).loose(),
  z.object({ type: z.enum(['TextBlock', 'FactSet', 'ColumnSet', 'Container', 'Image']) }).loose(),
]);
export const TeamsMessage = z.strictObject({
  type: z.literal('message'),
  attachments: z
    .array(
      z.strictObject({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null().optional(),
        content: z.object({
          $schema: z.string().optional(),
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.[0-6]$/),
          body: z.array(CardElement).min(1),
          actions: z.array(z.object({ type: z.literal('Action.OpenUrl'), title: z.string(), url: z.url() })).optional(),
        }),
      }),
    )
    .min(1),
});

/** Events API v2 (developer.pagerduty.com, "Send an Alert Event"): a 32-character routing key; a trigger needs summary (≤ 1024), source and severity. */
const severity = z.enum(['critical', 'error', 'warning', 'info']);
export const PagerDutyEvent = z.discriminatedUnion('event_action', [
  z.strictObject({
    routing_key: z.string().length(32),
    event_action: z.literal('trigger'),
    dedup_key: z.string().max(255).optional(),
    client: z.string().optional(),
    client_url: z.url().optional(),
    links: z.array(z.strictObject({ href: z.url(), text: z.string().optional() })).optional(),
    images: z.array(z.object({ src: z.url() }).loose()).optional(),
    payload: z.strictObject({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1),
      severity,
      timestamp: z.iso.datetime({ offset: true }).optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
  z.strictObject({ routing_key: z.string().length(32), event_action: z.enum(['acknowledge', 'resolve']), dedup_key: z.string().min(1).max(255) }),
]);

/** An answer a test makes the next request get, instead of the provider's usual one. */
export interface ForcedAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (a hung endpoint). */
  hang?: boolean;
}

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
  /** The provider's verdict on the request's format: undefined when it is well formed. */
  invalid?: string;
}

const issuesOf = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);

/** Whether a signed webhook's signature is HMAC-SHA256(key, "<timestamp>." + body), as rebound serve checks. */
export function signatureValid(key: string, headers: IncomingMessage['headers'], body: string): boolean {
  const expected = `sha256=${createHmac('sha256', key)
    .update(`${String(headers['x-rebound-timestamp'])}.${body}`)
    .digest('hex')}`;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(String(headers['x-rebound-signature'] ?? '')), digest(expected));
}

/**
 * Receivers on one loopback server: `/slack/<token>`, `/teams/<token>`, `/pagerduty/v2/enqueue`,
 * `/hook`. `tokens` are the webhook paths that exist (any other answers as an unknown hook
 * does); PagerDuty's open incidents are kept by dedup_key, as PagerDuty keeps them.
 */
export async function startReceivers(options: { slackToken: string; teamsToken: string; pagerDutyKey: string; webhookKey: string }) {
  const received: Received[] = [];
  const forced = new Map<string, ForcedAnswer[]>();
  const incidents = new Map<string, 'triggered' | 'acknowledged' | 'resolved'>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const entry: Received = { path, headers: req.headers, body, json };
      received.push(entry);
      const next = forced.get(path)?.shift();
      if (next?.hang) return;
      if (next) return void res.writeHead(next.status, next.headers ?? {}).end(next.body ?? '');
      const answer = route(path, entry);
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'text/plain' }).end(answer.body);
    });
  });

  function route(path: string, entry: Received): { status: number; body: string; type?: string } {
    if (path === `/slack/${options.slackToken}`) {
      const checked = SlackMessage.safeParse(entry.json);
      if (entry.json === undefined) return ((entry.invalid = 'invalid_payload'), { status: 400, body: 'invalid_payload' });
      if (!checked.success) return ((entry.invalid = issuesOf(checked.error).join('; ')), { status: 400, body: 'invalid_blocks' });
      return { status: 200, body: 'ok' };
    }
    if (path.startsWith('/slack/')) return { status: 404, body: 'no_service' };
    if (path === `/teams/${options.teamsToken}`) {
      const checked = TeamsMessage.safeParse(entry.json);
      if (!checked.success) {
        entry.invalid = entry.json === undefined ? 'not JSON' : issuesOf(checked.error).join('; ');
        return { status: 400, type: 'application/json', body: JSON.stringify({ error: { code: 'TriggerInputSchemaMismatch', message: entry.invalid } }) };
      }
      return { status: 202, body: '' };
    }
    if (path.startsWith('/teams/')) return { status: 404, type: 'application/json', body: '{"error":{"code":"WorkflowNotFound"}}' };
    if (path === '/pagerduty/v2/enqueue') return pagerDuty(entry);
    if (path === '/hook') {
      const ok = signatureValid(options.webhookKey, entry.headers, entry.body);
      if (!ok) entry.invalid = 'bad signature';
      return ok ? { status: 200, body: 'ok' } : { status: 401, body: 'unauthorized' };
    }
    return { status: 404, body: 'not found' };
  }

  function pagerDuty(entry: Received): { status: number; body: string; type: string } {
    const type = 'application/json';
    const checked = PagerDutyEvent.safeParse(entry.json);
    if (!checked.success) {
      entry.invalid = entry.json === undefined ? 'not JSON' : issuesOf(checked.error).join('; ');
      return { status: 400, type, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [entry.invalid] }) };
    }
    const event = checked.data;
    // A key this account has no integration for is accepted and dropped by PagerDuty; here it is refused, so a test sees it.
    if (event.routing_key !== options.pagerDutyKey)
      return { status: 400, type, body: '{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}' };
    const key = event.dedup_key ?? `generated-${received.length}`;
    const state = incidents.get(key);
    if (event.event_action === 'trigger' && state !== 'triggered' && state !== 'acknowledged') incidents.set(key, 'triggered');
    else if (event.event_action === 'acknowledge' && state === 'triggered') incidents.set(key, 'acknowledged');
    else if (event.event_action === 'resolve' && state && state !== 'resolved') incidents.set(key, 'resolved');
    return { status: 202, type, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: key }) };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    received,
    incidents,
    /** The next requests to `path` get these answers, in order. */
    force: (path: string, ...answers: ForcedAnswer[]) => forced.set(path, [...(forced.get(path) ?? []), ...answers]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
