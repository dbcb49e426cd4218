// Prometheus metrics of `rebound serve` (prom-client): alerts received, runs started, deduplicated, suppressed, refused.
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

export interface ServeMetrics {
  registry: Registry;
  received: Counter<'route'>;
  decisions: Counter<'runbook' | 'decision'>;
  refused: Counter<'route' | 'reason'>;
}

/** A registry of our own, so tests and embedders never share prom-client's global one. */
export function createMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rebound_serve_' });
  return {
    registry,
    received: new Counter({ name: 'rebound_alerts_received_total', help: 'Alerts received, by route', labelNames: ['route'], registers: [registry] }),
    decisions: new Counter({
      name: 'rebound_alert_decisions_total',
      help: 'What matched alerts did, by runbook: started, deduplicated, suppressed, resolved (started nothing), invalid, error',
      labelNames: ['runbook', 'decision'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'rebound_alert_requests_refused_total',
      help: 'Requests refused before any matching: unauthorized, stale (a PagerDuty event too old or too far ahead), malformed, too_large',
      labelNames: ['route', 'reason'],
      registers: [registry],
    }),
  };
}
