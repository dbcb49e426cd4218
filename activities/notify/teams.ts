// Microsoft Teams through a Workflows webhook: a message carrying one Adaptive Card (schema 1.4), as the "post to a channel when a webhook request is received" flow expects.
import type { Message } from './message.ts';
import { postJson } from './post.ts';

const COLOR: Record<Message['severity'], string> = { info: 'Accent', warning: 'Warning', error: 'Attention', critical: 'Attention' };

export function teamsBody(m: Message): Record<string, unknown> {
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', color: COLOR[m.severity], wrap: true },
      { type: 'TextBlock', text: m.text, wrap: true },
      { type: 'FactSet', facts: Object.entries(m.fields).map(([title, value]) => ({ title, value })) },
    ],
    ...(m.link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open run', url: m.link }] } : {}),
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}

export async function sendTeams(channel: { url: string }, m: Message, options: { timeout: string; where: string; signal: AbortSignal }): Promise<string> {
  const answer = await postJson(channel.url, teamsBody(m), options);
  return `${answer.status}`;
}
