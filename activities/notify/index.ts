// The notify integration: messages to Slack, Teams, PagerDuty, e-mail and webhooks.
import { spec } from '../../contract/actions/notify.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { notifyImpl } from './notify.ts';

export const integration = defineIntegration(spec, { actions: [notifyImpl] });
