// The object-storage replica integration: objects.check and objects.replicate.
import { spec } from '../../contract/actions/objects.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { objectsCheckImpl, objectsReplicateImpl } from './replicas.ts';

export const integration = defineIntegration(spec, { actions: [objectsCheckImpl, objectsReplicateImpl] });
