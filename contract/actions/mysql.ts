// MySQL/MariaDB action definitions: mysql.dump into a restore point, mysql.restore from one, mysql.check after a restore.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, ServiceSchema } from './points.ts';
import { CheckResultSchema } from './checks.ts';
import { databaseCheckInput, databaseRestoreFields, restoresOverDatabase } from './sql-database.ts';
import { defineIntegrationSpec } from '../integration.ts';

const UrlSchema = z.string().describe('connection URL mysql://user:password@host:port/database, from a secret: ${{ secrets.registry_db }}');

/** mariadb-dump (or mysqldump) of one database in one consistent transaction, gzipped into storage. */
export const mysqlDump = defineAction({
  name: 'mysql.dump',
  summary: 'Dump a MySQL/MariaDB database (mariadb-dump --single-transaction, with routines, triggers and events) into a restore point',
  kind: 'activity',
  backend: 'mysql',
  impact: 'write',
  secret_inputs: ['source', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    source: UrlSchema,
    service: ServiceSchema,
    database: z.string().optional().describe('database to dump (default: the one in the URL)'),
    tables: z.array(z.string()).default([]).describe('only these tables (default: every table)'),
    exclude_tables: z.array(z.string()).default([]),
    compress: z.number().int().min(0).max(9).default(6).describe('gzip level of the stored dump; 0 stores it uncompressed'),
    ...backupPointFields,
  }),
  output: z.object(committedPointOutput),
});

/** A dump point replayed by the mariadb client, after its bytes were checked against the manifest. */
export const mysqlRestore = defineAction({
  name: 'mysql.restore',
  summary: 'Restore a MySQL/MariaDB restore point into a target database',
  kind: 'activity',
  backend: 'mysql',
  impact: 'write',
  secret_inputs: ['target', ...STORAGE_SECRETS],
  drill_targets: ['target', 'database'],
  restores_over: restoresOverDatabase,
  input: z.strictObject({
    ...databaseRestoreFields,
    storage: StorageSchema.optional(),
  }),
  output: z.object({ ...restoredPointOutput, database: z.string(), restored_bytes: z.number() }),
});

/** Validates a database after a restore: tables exist, row counts, custom queries. */
export const mysqlCheck = defineAction({
  name: 'mysql.check',
  summary: 'Check a MySQL/MariaDB database: tables exist, minimum row counts, custom queries',
  kind: 'activity',
  backend: 'mysql',
  impact: 'read',
  secret_inputs: ['target'],
  input: databaseCheckInput,
  output: z.object({ checks: z.array(CheckResultSchema) }),
});

/** The MySQL integration: its actions, and its kind of point with the scratch server backup.verify restores it into. */
export const spec = defineIntegrationSpec({
  name: 'mysql',
  actions: [mysqlDump, mysqlRestore, mysqlCheck],
  kinds: {
    mysql: {
      verify: {
        scratch: z.string().optional().describe('MySQL points: connection URL (from a secret) of a server where a scratch database may be created and dropped'),
      },
      verify_secrets: ['scratch'],
    },
  },
});
