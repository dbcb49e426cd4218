// The PostgreSQL integration: dump, restore and check, streaming replication (read, promote, reprotect), and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/postgres.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { postgresCheckImpl } from './check.ts';
import { postgresDumpImpl } from './dump.ts';
import { postgresPromoteImpl } from './promote.ts';
import { postgresReplicationImpl } from './replication.ts';
import { postgresReprotectImpl } from './reprotect.ts';
import { postgresRestoreImpl } from './restore.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [postgresDumpImpl, postgresRestoreImpl, postgresCheckImpl, postgresReplicationImpl, postgresPromoteImpl, postgresReprotectImpl],
  kinds: { postgres: { testRestore } },
});
