// The RabbitMQ integration: export, import and check, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/rabbitmq.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { rabbitmqCheckImpl } from './check.ts';
import { rabbitmqExportImpl } from './export.ts';
import { rabbitmqImportImpl } from './import.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [rabbitmqExportImpl, rabbitmqImportImpl, rabbitmqCheckImpl],
  kinds: { rabbitmq: { testRestore } },
});
