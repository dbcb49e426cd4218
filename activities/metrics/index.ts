// The metrics integration: metrics.check against Prometheus' HTTP API.
import { spec } from '../../contract/actions/metrics.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { metricsCheckImpl } from './check.ts';

export const integration = defineIntegration(spec, { actions: [metricsCheckImpl] });
