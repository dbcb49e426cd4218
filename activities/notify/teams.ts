// Microsoft Teams through a Workflows webhook: a message carrying one Adaptive Card (schema 1.4), as the "post to a channel when a webhook request is received" flow expects.
import type { Message } from './message.ts';
import { postJson } from './post.ts';

const COLOR: Record<Message['severity'], string> = { info: 'Accent', warning: 'Warning', error: 'Attention', critical: 'Attention' };

/**
 * What runs wrote (alert labels, backend errors) goes in TextRuns, which Adaptive Cards render
 * as plain text: a TextBlock or a Fact would render `[Approve](https://evil)` as a link and
 * `**…**` as emphasis, so a hostile alert could put a convincing link in the on-call channel.
 */
function plain(text: string, style: Record<string, string> = {}) {
  return { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text, ...style }] };
}

export function teamsBody(m: Message): Record<string, unknown> {
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      plain(m.title, { weight: 'Bolder', size: 'Medium', color: COLOR[m.severity] }),
      plain(m.text),
      ...Object.entries(m.fields).map(([title, value]) => ({
        type: 'RichTextBlock',
        inlines: [
          { type: 'TextRun', text: `${title}: `, weight: 'Bolder' },
          { type: 'TextRun', text: value },
        ],
      })),
    ],
    ...(m.link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open run', url: m.link }] } : {}),
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}

export async function sendTeams(channel: { url: string }, m: Message, options: { timeout: string; where: string; signal: AbortSignal }): Promise<string> {
  const answer = await postJson(channel.url, teamsBody(m), options);
  return `${answer.status}`;
}
