// The notify action's definition and the channels a runbook declares under spec.channels: Slack, Teams, PagerDuty Events v2, e-mail over SMTP and signed webhooks.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { defineIntegrationSpec } from '../integration.ts';

/** Where PagerDuty's Events API v2 takes events; a test (or a proxy) gives another `endpoint`. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const https = z.url({ protocol: /^https?$/ });
const timeout = z.string().regex(DURATION_PATTERN, 'a duration such as 10s').default('10s');

/** A Slack incoming webhook (Mattermost's incoming webhooks take the same Block Kit body). */
const SlackChannel = z.strictObject({ url: https.describe('the incoming-webhook URL; give it as ${{ secrets.NAME }}: the URL is the credential') });

/** A Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is received"), sent an Adaptive Card. */
const TeamsChannel = z.strictObject({ url: https.describe("the workflow's HTTP POST URL; give it as ${{ secrets.NAME }}: its signature is the credential") });

const PagerDutyChannel = z.strictObject({
  routing_key: z.string().min(1).describe("the integration key of the PagerDuty service's Events API v2 integration (a secret)"),
  endpoint: https.default(PAGERDUTY_EVENTS_URL).describe('where events go (default PagerDuty’s Events API v2)'),
  source: z.string().min(1).optional().describe('the affected system, shown in the incident (default: the runbook’s name)'),
  component: z.string().optional(),
  group: z.string().optional(),
});

const EmailChannel = z.strictObject({
  host: z.string().min(1).describe('the SMTP server'),
  port: z.number().int().min(1).max(65535).default(587),
  tls: z.enum(['starttls', 'implicit', 'none']).default('starttls').describe('starttls (587, required), implicit (465) or none (a relay on loopback only)'),
  ca_file: z.string().min(1).optional().describe("a PEM file the server's certificate must chain to (default: the system's roots)"),
  user: z.string().min(1).optional(),
  password: z.string().min(1).optional().describe('the SMTP password (a secret); with user, AUTH is required'),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  cc: z.array(z.string().min(3)).optional(),
});

const WebhookChannel = z.strictObject({
  url: https,
  key: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .describe('HMAC-SHA256 key (a secret): X-Rebound-Signature: sha256=HMAC(key, "<X-Rebound-Timestamp>." + body), as rebound serve checks'),
  headers: z.record(z.string(), z.string()).default({}),
});

const KINDS = { slack: SlackChannel, teams: TeamsChannel, pagerduty: PagerDutyChannel, email: EmailChannel, webhook: WebhookChannel };
export type ChannelKind = keyof typeof KINDS;
export const CHANNEL_KINDS = Object.keys(KINDS) as ChannelKind[];

const exactlyOne = (channel: object): boolean => CHANNEL_KINDS.filter((k) => k in channel).length === 1;
const oneKind = { message: `give exactly one of ${CHANNEL_KINDS.join(', ')}` };
const kinds = {
  slack: SlackChannel.optional(),
  teams: TeamsChannel.optional(),
  pagerduty: PagerDutyChannel.optional(),
  email: EmailChannel.optional(),
  webhook: WebhookChannel.optional(),
};

/** One channel, as spec.channels.NAME declares it: exactly one kind. */
export const ChannelSchema = z.strictObject(kinds).refine(exactlyOne, oneKind);

/** A channel the compiler expanded from its name, as the action receives it. */
export const NamedChannelSchema = z.strictObject({ name: z.string().min(1).describe('its name in spec.channels'), ...kinds }).refine(exactlyOne, oneKind);
export type NamedChannel = z.output<typeof NamedChannelSchema>;

/** The one kind a channel has. */
export function kindOf(channel: object): ChannelKind | undefined {
  return CHANNEL_KINDS.find((k) => k in channel);
}

const SEVERITY = z.enum(['info', 'warning', 'error', 'critical']);

/**
 * A message to the people on the given channels. It runs in every mode (a drill's message
 * says it is a drill in every channel) and changes nothing but what people see.
 */
export const notify = defineAction({
  name: 'notify',
  summary: 'Send a message to channels declared under spec.channels (Slack, Teams, PagerDuty, e-mail, webhooks)',
  kind: 'activity',
  backend: 'notify',
  impact: 'read',
  secret_destinations: {
    'channels.*.pagerduty.routing_key': 'channels.*.pagerduty.endpoint',
    'channels.*.email.password': 'channels.*.email.host',
    'channels.*.email.user': 'channels.*.email.host',
    'channels.*.webhook.key': 'channels.*.webhook.url',
    'channels.*.webhook.headers': 'channels.*.webhook.url',
  },
  input: z.strictObject({
    channels: z.array(NamedChannelSchema).min(1).describe('names of spec.channels (the compiler puts their definitions here)'),
    title: z.string().min(1).optional().describe('one line: the Slack header, the e-mail subject, the PagerDuty summary (default: runbook and severity)'),
    message: z.string().min(1),
    severity: SEVERITY.default('info'),
    /** PagerDuty only: what the event does to the incident its dedup_key names. */
    event: z.enum(['trigger', 'acknowledge', 'resolve']).default('trigger').describe('PagerDuty: trigger, acknowledge or resolve the incident of dedup_key'),
    dedup_key: z.string().min(1).max(255).optional().describe("PagerDuty's incident key (default: the run's id)"),
    link: https.optional().describe('a link shown with the message (the run in the console, a dashboard)'),
    fields: z.record(z.string(), z.string()).default({}).describe('name → value pairs shown with the message (Slack fields, PagerDuty custom details, …)'),
    attach_report: z.boolean().default(false).describe("e-mail: attach the run's report (Markdown) as it stands when the message is sent"),
    timeout,
    /** Filled in by the compiler from run.mode: every channel marks a drill's message as a drill. */
    drill: z.boolean().default(false),
  }),
  output: z.object({
    sent: z.array(z.object({ channel: z.string(), kind: z.string(), status: z.string() })),
    dedup_key: z.string(),
  }),
});

/** The notify integration: messages to people; it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'notify',
  actions: [notify],
});
