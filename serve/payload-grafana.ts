// Parses Grafana Alerting's webhook contact point body (version "1", Alertmanager-like) into AlertInfo.
import { z } from 'zod';
import type { AlertInfo } from '../contract/trigger.ts';
import { AlertmanagerAlert, check, fingerprintOf, labels, parseJson, status, type Parsed } from './payload.ts';

// Not strict: Grafana adds fields over time (imageURL, orgId); title, state and message are deprecated and not read.
const GrafanaSchema = z.object({
  // A custom payload template sends something else: say so rather than guess at it.
  version: z.literal('1', { error: 'only Grafana webhook version "1" (the default payload, no custom template) is understood' }).optional(),
  status: status.optional(),
  commonLabels: labels.optional(),
  commonAnnotations: labels.optional(),
  alerts: z
    .array(
      AlertmanagerAlert.extend({
        generatorURL: z.string().optional(),
        silenceURL: z.string().optional(),
        dashboardURL: z.string().optional(),
        panelURL: z.string().optional(),
        imageURL: z.string().optional(),
        // The query and expression results (refId → number) that made the alert fire; null when there were none.
        values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).nullish(),
        valueString: z.string().optional(),
      }),
    )
    .min(1, 'alerts is empty'),
});

type GrafanaAlert = z.infer<typeof GrafanaSchema>['alerts'][number];

/** Grafana's links and values, as annotations a runbook can read (`trigger.alert.annotations.value_B`); empty ones are left out. */
function extras(alert: GrafanaAlert): Record<string, string> {
  const links: Record<string, string | undefined> = {
    generator_url: alert.generatorURL,
    silence_url: alert.silenceURL,
    dashboard_url: alert.dashboardURL,
    panel_url: alert.panelURL,
    image_url: alert.imageURL,
    value_string: alert.valueString,
  };
  const values = Object.entries(alert.values ?? {}).map(([ref, value]) => [`value_${ref}`, value === null ? undefined : String(value)] as const);
  return Object.fromEntries([...Object.entries(links), ...values].filter((entry): entry is [string, string] => !!entry[1]));
}

export function parseGrafana(body: Buffer): Parsed<'grafana'> {
  const payload = check(GrafanaSchema, parseJson(body));
  const alerts = payload.alerts.map((alert): AlertInfo<'grafana'> => {
    const all = { ...payload.commonLabels, ...alert.labels };
    return {
      status: alert.status,
      labels: all,
      // The rule's own annotations win over a derived one of the same name.
      annotations: { ...extras(alert), ...payload.commonAnnotations, ...alert.annotations },
      starts_at: alert.startsAt ?? '',
      fingerprint: alert.fingerprint || fingerprintOf(all),
      source: 'grafana',
    };
  });
  return { alerts };
}
