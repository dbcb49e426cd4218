// The DNS integration (PowerDNS, Route 53): dns.switch, loaded on its first step (the Route 53 client weighs tens of MB).
import { dnsSwitch, spec } from '../../contract/actions/dns.ts';
import { lazyImpl } from '../runtime/lazy.ts';
import { defineIntegration } from '../runtime/integration.ts';

export const integration = defineIntegration(spec, {
  actions: [lazyImpl(dnsSwitch, async () => (await import('./switch.ts')).dnsSwitchImpl, { simulate: true })],
});
