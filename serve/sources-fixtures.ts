// Test bodies of the PagerDuty and Grafana sources, shaped as each sender's published example; only tests import this.

/** A v3 delivery, shaped as PagerDuty's published example (docs/webhooks/01-Overview.md of PagerDuty/developer-docs). */
export function pagerdutyEvent(eventType: string, overrides: { id?: string; occurredAt?: string; incident?: Record<string, unknown> } = {}) {
  return {
    event: {
      id: overrides.id ?? '5ac64822-4adc-4fda-ade0-410becf0de4f',
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: overrides.occurredAt ?? '2026-06-01T11:59:30.169Z',
      agent: { id: 'PLH1HKV', summary: 'Tenex Engineer', type: 'user_reference' },
      client: { name: 'PagerDuty' },
      data: {
        id: 'PGR0VU2',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/PGR0VU2',
        html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        number: 2,
        status: eventType === 'incident.resolved' ? 'resolved' : 'triggered',
        incident_key: 'd3640fbd41094207a1c11e58e46b1662',
        created_at: '2026-06-01T11:59:27Z',
        title: 'Orders primary down',
        service: { id: 'PF9KMXH', summary: 'orders-db', type: 'service_reference' },
        assignees: [{ id: 'PTUXL6G', summary: 'User 123', type: 'user_reference' }],
        escalation_policy: { id: 'PUS0KTE', summary: 'Default', type: 'escalation_policy_reference' },
        teams: [
          { id: 'PFCVPS0', summary: 'Engineering', type: 'team_reference' },
          { id: 'PFCVPS1', summary: 'DBA', type: 'team_reference' },
        ],
        priority: { id: 'PSO75BM', summary: 'P1', type: 'priority_reference' },
        urgency: 'high',
        conference_bridge: null,
        resolve_reason: null,
        ...overrides.incident,
      },
    },
  };
}

/** A contact point's default body, as Grafana's published example (webhook-notifier.md). */
export function grafanaBody(status: 'firing' | 'resolved' = 'firing', labels: Record<string, string> = { alertname: 'High memory usage', zone: 'us-1' }) {
  return {
    receiver: 'rebound',
    status,
    orgId: 1,
    alerts: [
      {
        status,
        labels,
        annotations: { summary: 'This alert was triggered for zone us-1' },
        startsAt: '2026-06-01T11:51:03.157076+02:00',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://grafana.example/alerting/1afz29v7z/edit',
        fingerprint: 'c6eadffa33fcdf37',
        silenceURL: 'https://grafana.example/alerting/silence/new',
        dashboardURL: '',
        panelURL: '',
        values: { B: 44.23943737541908, C: 1 },
        valueString: "[ var='B' labels={} value=44.23943737541908 ]",
      },
    ],
    groupLabels: {},
    commonLabels: { team: 'blue' },
    commonAnnotations: {},
    externalURL: 'https://grafana.example/',
    version: '1',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    title: '[FIRING:1] (blue)',
    state: 'alerting',
    message: '**Firing**',
  };
}
