// The traffic-routing integration (HAProxy, ELBv2): routing.switch, loaded on its first step (the ELBv2 client weighs tens of MB).
import { routingSwitch, spec } from '../../contract/actions/routing.ts';
import { lazyImpl } from '../runtime/lazy.ts';
import { defineIntegration } from '../runtime/integration.ts';

export const integration = defineIntegration(spec, {
  actions: [lazyImpl(routingSwitch, async () => (await import('./switch.ts')).routingSwitchImpl, { simulate: true })],
});
