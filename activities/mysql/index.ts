// The MySQL/MariaDB integration: dump, restore and check, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/mysql.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { mysqlCheckImpl } from './check.ts';
import { mysqlDumpImpl } from './dump.ts';
import { mysqlRestoreImpl } from './restore.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [mysqlDumpImpl, mysqlRestoreImpl, mysqlCheckImpl],
  kinds: { mysql: { testRestore } },
});
