// Slack (and Mattermost) incoming webhooks: a Block Kit message with a plain-text fallback, within Slack's published block limits.
import { clip, type Message } from './message.ts';
import { postJson } from './post.ts';

const EMOJI: Record<Message['severity'], string> = { info: ':information_source:', warning: ':warning:', error: ':x:', critical: ':rotating_light:' };

/** Free text in mrkdwn: `<!channel>` would ping everyone and `<url|text>` would be a link, so `&`, `<` and `>` are escaped as Slack documents. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's limits: a header's text 150 characters, a section's 3000, at most 10 fields of 2000. */
export function slackBody(m: Message): Record<string, unknown> {
  const fields = Object.entries(m.fields)
    .slice(0, 10)
    .map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${escapeMrkdwn(k)}*\n${escapeMrkdwn(v)}`, 2000) }));
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${EMOJI[m.severity]} ${escapeMrkdwn(m.text)}`, 3000) } },
  ];
  if (fields.length) blocks.push({ type: 'section', fields });
  if (m.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open run' }, url: m.link }] });
  // `text` is what notifications and clients without blocks show.
  return { text: clip(escapeMrkdwn(`${m.title}: ${m.text}`), 3000), blocks };
}

export async function sendSlack(channel: { url: string }, m: Message, options: { timeout: string; where: string; signal: AbortSignal }): Promise<string> {
  const answer = await postJson(channel.url, slackBody(m), options);
  return `${answer.status}`;
}
