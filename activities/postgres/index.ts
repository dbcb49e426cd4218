// The PostgreSQL integration: dump, restore and check, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/postgres.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { postgresCheckImpl } from './check.ts';
import { postgresDumpImpl } from './dump.ts';
import { postgresRestoreImpl } from './restore.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [postgresDumpImpl, postgresRestoreImpl, postgresCheckImpl],
  kinds: { postgres: { testRestore } },
});
