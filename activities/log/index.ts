// The log integration: a line in the run's log.
import { spec } from '../../contract/actions/log.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { logImpl } from './log.ts';

export const integration = defineIntegration(spec, { actions: [logImpl] });
