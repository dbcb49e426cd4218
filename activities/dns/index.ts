// The DNS integration (PowerDNS, Route 53): dns.switch and route53.health_check, each loaded on its first step (the Route 53 client weighs tens of MB).
import { dnsSwitch, spec } from '../../contract/actions/dns.ts';
import { route53HealthCheck } from '../../contract/actions/dns-route53.ts';
import { lazyImpl } from '../runtime/lazy.ts';
import { defineIntegration } from '../runtime/integration.ts';

export const integration = defineIntegration(spec, {
  actions: [
    lazyImpl(dnsSwitch, async () => (await import('./switch.ts')).dnsSwitchImpl, { simulate: true }),
    lazyImpl(route53HealthCheck, async () => (await import('./health-check.ts')).route53HealthCheckImpl, { simulate: true }),
  ],
});
