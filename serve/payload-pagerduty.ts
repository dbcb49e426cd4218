// Parses PagerDuty webhook v3 bodies (one event each) into AlertInfo: incidents opening fire, incidents closing resolve, other events are ignored.
import { z } from 'zod';
import type { AlertInfo } from '../contract/trigger.ts';
import { check, parseJson, type Parsed } from './payload.ts';

/** The events that open or close an incident; every other one (acknowledged, annotated, priority_updated, pagey.ping, …) starts and ends nothing. */
const STATUS_OF: Record<string, AlertInfo['status']> = {
  'incident.triggered': 'firing',
  // Reopened: the incident is back, as a new firing would be; the runbook's dedup key and cooldown decide what it starts.
  'incident.reopened': 'firing',
  'incident.resolved': 'resolved',
};

/** A PagerDuty reference ({id, summary, type, self, html_url}); only id and summary are read. */
const ref = z.object({ id: z.string().nullish(), summary: z.string().nullish() }).nullish();

// Not strict: PagerDuty adds event types and fields over time; what is read is checked, the rest passed over.
const EventSchema = z.object({
  event: z.object(
    {
      id: z.string({ error: 'expected the event id (a string)' }).min(1, 'the event id is empty'),
      event_type: z.string({ error: 'expected the event type (a string)' }).min(1, 'the event type is empty'),
      occurred_at: z.string({ error: 'expected an ISO 8601 time' }).refine((t) => Number.isFinite(Date.parse(t)), 'expected an ISO 8601 time'),
      agent: z.object({ summary: z.string().nullish() }).nullish(),
      data: z.unknown(),
    },
    { error: 'expected a PagerDuty webhook v3 body: {"event": {"id", "event_type", "occurred_at", "data"}}' },
  ),
});

const IncidentSchema = z.object({
  event: z.object({
    data: z.object(
      {
        id: z.string({ error: 'expected the incident id (a string)' }).min(1, 'the incident id is empty'),
        html_url: z.string().nullish(),
        number: z.number().nullish(),
        status: z.string().nullish(),
        incident_key: z.string().nullish(),
        created_at: z.string().nullish(),
        title: z.string().nullish(),
        service: ref,
        escalation_policy: ref,
        teams: z.array(ref).nullish(),
        priority: ref,
        urgency: z.string().nullish(),
      },
      { error: 'expected the incident (an object)' },
    ),
  }),
});

type Event = z.infer<typeof EventSchema>['event'];
type Incident = z.infer<typeof IncidentSchema>['event']['data'];

/** Every label and annotation is always present ('' when PagerDuty gave none), so a template that names one never fails on a quiet incident. */
const text = (value: string | number | null | undefined): string => (value === null || value === undefined ? '' : String(value));

function alertOf(event: Event, incident: Incident, status: AlertInfo['status']): AlertInfo<'pagerduty'> {
  return {
    status,
    // What a runbook's match: and dedup_key would name; `alertname` is the title, as Alertmanager's alerts name themselves.
    labels: {
      alertname: text(incident.title),
      service: text(incident.service?.summary),
      pagerduty_service_id: text(incident.service?.id),
      incident_id: incident.id,
      incident_key: text(incident.incident_key),
      urgency: text(incident.urgency),
      priority: text(incident.priority?.summary),
      escalation_policy: text(incident.escalation_policy?.summary),
      teams: (incident.teams ?? [])
        .map((team) => text(team?.summary))
        .filter(Boolean)
        .join(','),
    },
    annotations: {
      title: text(incident.title),
      html_url: text(incident.html_url),
      incident_number: text(incident.number),
      incident_status: text(incident.status),
      event_type: event.event_type,
      event_id: event.id,
      occurred_at: event.occurred_at,
      agent: text(event.agent?.summary),
    },
    starts_at: incident.created_at || event.occurred_at,
    // The incident, not the event: its triggered and resolved events are one alert.
    fingerprint: incident.id,
    source: 'pagerduty',
  };
}

export function parsePagerDuty(body: Buffer): Parsed<'pagerduty'> {
  const json = parseJson(body);
  const { event } = check(EventSchema, json);
  const sent = { id: event.id, occurredAt: Date.parse(event.occurred_at) };
  const status = STATUS_OF[event.event_type];
  if (!status) {
    const ignored = `${event.event_type} neither opens nor closes an incident: only incident.triggered and incident.reopened (firing) and incident.resolved (resolved) are alerts`;
    return { alerts: [], ignored, event: sent };
  }
  const incident = check(IncidentSchema, json).event.data;
  // Rebound's own pages (spec.notify) would otherwise start the runbook that sent them, and so on.
  if (incident.incident_key?.startsWith('rebound:')) {
    return {
      alerts: [],
      ignored: `incident ${incident.id} was opened by Rebound (incident_key ${incident.incident_key}); its own pages start no runs`,
      event: sent,
    };
  }
  return { alerts: [alertOf(event, incident, status)], event: sent };
}
