// PostgreSQL action definitions: postgres.dump into a restore point, postgres.restore from one, postgres.check after a restore; the replication actions (postgres-replication.ts) join them in the spec.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, ServiceSchema } from './points.ts';
import { CheckResultSchema } from './checks.ts';
import { databaseCheckInput, databaseRestoreFields, restoresOverDatabase } from './sql-database.ts';
import { defineIntegrationSpec } from '../integration.ts';
import { postgresPromote, postgresReplication, postgresReprotect } from './postgres-replication.ts';

/** pg_dump in custom format, streamed to storage; the manifest commits the restore point. */
export const postgresDump = defineAction({
  name: 'postgres.dump',
  summary: 'Dump a PostgreSQL database (pg_dump -Fc) into a restore point',
  kind: 'activity',
  backend: 'postgres',
  impact: 'write',
  secret_inputs: ['source', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    source: z.string().describe('connection URL, from a secret: ${{ secrets.orders_pg }}'),
    service: ServiceSchema,
    database: z.string().optional(),
    schemas: z.array(z.string()).default([]),
    tables: z.array(z.string()).default([]),
    exclude_tables: z.array(z.string()).default([]),
    compress: z.number().int().min(0).max(9).default(6),
    ...backupPointFields,
  }),
  output: z.object(committedPointOutput),
});

/** pg_restore from a restore point, streamed; checks the object's sha256 on the way. */
export const postgresRestore = defineAction({
  name: 'postgres.restore',
  summary: 'Restore a PostgreSQL restore point into a target database',
  kind: 'activity',
  backend: 'postgres',
  impact: 'write',
  secret_inputs: ['target', ...STORAGE_SECRETS],
  drill_targets: ['target', 'database'],
  restores_over: restoresOverDatabase,
  input: z.strictObject({
    ...databaseRestoreFields,
    clean: z.boolean().default(false).describe('drop objects before recreating them (--clean --if-exists)'),
    storage: StorageSchema.optional(),
  }),
  output: z.object({ ...restoredPointOutput, database: z.string(), restored_bytes: z.number() }),
});

/** Validates a database after a restore: tables exist, row counts, custom queries. */
export const postgresCheck = defineAction({
  name: 'postgres.check',
  summary: 'Check a database: tables exist, minimum row counts, custom queries',
  kind: 'activity',
  backend: 'postgres',
  impact: 'read',
  secret_inputs: ['target'],
  input: databaseCheckInput,
  output: z.object({ checks: z.array(CheckResultSchema) }),
});

/** The PostgreSQL integration: its actions (streaming replication's among them), and its kind of point with the scratch server backup.verify restores it into. */
export const spec = defineIntegrationSpec({
  name: 'postgres',
  actions: [postgresDump, postgresRestore, postgresCheck, postgresReplication, postgresPromote, postgresReprotect],
  kinds: {
    postgres: {
      verify: {
        scratch: z
          .string()
          .optional()
          .describe('PostgreSQL points: connection URL (from a secret) of a server where a scratch database may be created and dropped'),
      },
      verify_secrets: ['scratch'],
    },
  },
});
