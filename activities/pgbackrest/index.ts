// The pgBackRest integration: backups recorded as points kept in the repository, restores to a time, and backup.verify's and prune's hooks for them.
import { spec } from '../../contract/actions/pgbackrest.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { pgbackrestBackupImpl } from './backup.ts';
import { prune } from './prune.ts';
import { pgbackrestRestoreImpl } from './restore.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [pgbackrestBackupImpl, pgbackrestRestoreImpl],
  kinds: { pgbackrest: { testRestore, prune } },
});
