// PagerDuty Events API v2: trigger, acknowledge or resolve the incident a dedup_key names; severity, source and custom details with the run's link.
import { clip, type Message } from './message.ts';
import { postJson } from './post.ts';

export interface PagerDutyChannel {
  routing_key: string;
  endpoint: string;
  source?: string | undefined;
  component?: string | undefined;
  group?: string | undefined;
}

/** The event as Events API v2 documents it: acknowledge and resolve carry only the key and the action. */
export function pagerDutyBody(channel: PagerDutyChannel, m: Message, now = new Date()): Record<string, unknown> {
  const base = { routing_key: channel.routing_key, event_action: m.event, dedup_key: m.dedup_key };
  if (m.event !== 'trigger') return base;
  return {
    ...base,
    client: 'Rebound',
    ...(m.link ? { client_url: m.link, links: [{ href: m.link, text: 'Rebound run' }] } : {}),
    payload: {
      summary: clip(`${m.title}: ${m.text}`, 1024),
      source: channel.source ?? m.runbook,
      severity: m.severity,
      timestamp: now.toISOString(),
      ...(channel.component ? { component: channel.component } : {}),
      ...(channel.group ? { group: channel.group } : {}),
      class: m.drill ? 'rebound drill' : 'rebound run',
      custom_details: { ...m.fields, message: m.text },
    },
  };
}

export async function sendPagerDuty(channel: PagerDutyChannel, m: Message, options: { timeout: string; where: string; signal: AbortSignal }): Promise<string> {
  const answer = await postJson(channel.endpoint, pagerDutyBody(channel, m), options);
  return `${answer.status} ${m.event} ${m.dedup_key}`;
}
