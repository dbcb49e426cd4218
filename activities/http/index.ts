// The HTTP integration: http.check and http.request.
import { spec } from '../../contract/actions/http.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { httpCheckImpl, httpRequestImpl } from './check.ts';

export const integration = defineIntegration(spec, { actions: [httpCheckImpl, httpRequestImpl] });
