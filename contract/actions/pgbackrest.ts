// pgBackRest action definitions: pgbackrest.backup recorded as a restore point whose data stays in the repository, pgbackrest.restore to a time, the latest or a backup.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { defineIntegrationSpec } from '../integration.ts';
import { StorageSchema } from '../storage.ts';
import { ChecksSchema, CheckResultSchema } from './checks.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';

/** The fields of a repository that are credentials: only a secret reference is accepted there. */
const REPOSITORY_SECRETS = ['cipher_pass', 's3_key', 's3_key_secret'] as const;

/** pgBackRest's repo1: a folder or an S3 bucket, optionally encrypted client-side. Secrets reach pgBackRest only through its environment. */
export const RepositorySchema = z.strictObject({
  type: z.enum(['posix', 's3']).default('posix'),
  path: z.string().describe('the repository: a folder on the worker (posix), or the prefix inside the bucket (s3), e.g. /var/lib/pgbackrest'),
  s3_bucket: z.string().optional(),
  s3_endpoint: z.string().optional().describe('host[:port] of the S3 endpoint; pgBackRest checks it against the certificate by DNS name, so no bare IP'),
  s3_region: z.string().default('us-east-1'),
  s3_uri_style: z.enum(['host', 'path']).default('host'),
  s3_ca_file: z.string().optional().describe('CA bundle on the worker for a private endpoint'),
  s3_key: z.string().optional().describe('from a secret'),
  s3_key_secret: z.string().optional().describe('from a secret'),
  cipher_pass: z.string().optional().describe('from a secret: the passphrase of a repository encrypted with aes-256-cbc'),
});
export type Repository = z.output<typeof RepositorySchema>;

/** The PostgreSQL cluster pgBackRest backs up: on this worker's host, reached through its socket. */
export const ClusterSchema = z.strictObject({
  data_dir: z.string().describe('the cluster data directory (pg1-path)'),
  port: z.number().int().default(5432),
  socket_dir: z.string().default('/var/run/postgresql'),
  user: z.string().default('postgres').describe('database superuser pgBackRest connects as, through the socket'),
});

const runAs = z.string().optional().describe('OS user pgBackRest runs as when the worker runs as root (the owner of the data directory, usually postgres)');
const secretsOf = (prefix: string) => REPOSITORY_SECRETS.map((f) => `${prefix}.${f}`);

export const pgbackrestBackup = defineAction({
  name: 'pgbackrest.backup',
  summary: 'Take a pgBackRest backup (full, diff or incr) of a stanza and record it as a restore point with its recoverable window',
  kind: 'activity',
  backend: 'pgbackrest',
  impact: 'write',
  secret_inputs: [...secretsOf('repository'), ...STORAGE_SECRETS],
  secret_destinations: { 'repository.s3_key': 'repository.s3_endpoint', 'repository.s3_key_secret': 'repository.s3_endpoint' },
  drill_targets: ['storage'],
  input: z.strictObject({
    service: ServiceSchema,
    stanza: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    repository: RepositorySchema,
    cluster: ClusterSchema,
    type: z.enum(['full', 'diff', 'incr']).default('full'),
    run_as: runAs,
    ...backupPointFields,
  }),
  output: z.object({ ...committedPointOutput, label: z.string(), window: z.object({ from: z.string(), to: z.string() }) }),
});

/** What verify, prune and restore need beyond what a point records: the repository's credentials, and who runs pgBackRest. */
export const CredentialsSchema = z.strictObject({
  cipher_pass: z.string().optional().describe('from a secret'),
  s3_key: z.string().optional().describe('from a secret'),
  s3_key_secret: z.string().optional().describe('from a secret'),
  run_as: runAs,
});

export const pgbackrestRestore = defineAction({
  name: 'pgbackrest.restore',
  summary:
    "Restore a pgBackRest point's stanza to a time, its latest WAL or a backup: into a throwaway scratch cluster with checks (drills) or into a data directory",
  kind: 'activity',
  backend: 'pgbackrest',
  impact: 'write',
  secret_inputs: [...secretsOf('pgbackrest'), ...STORAGE_SECRETS],
  drill_targets: ['mode', 'data_dir'],
  // A scratch restore writes only into a private folder on the worker.
  drill_safe: (input) => (input.mode ?? 'scratch') === 'scratch',
  restores_over: (input) => (input.mode === 'scratch' ? undefined : `data directory ${String(input.data_dir)}`),
  input: z
    .strictObject({
      restore_point: RestorePointRefSchema.describe(
        'a pgbackrest point: the stanza and repository to restore from (pgBackRest picks the backup set for a time)',
      ),
      target: z
        .union([z.literal('latest'), z.literal('backup'), z.strictObject({ time: z.string() })])
        .default('latest')
        .describe("latest: the end of the archived WAL; backup: the point's own backup, consistent and no later; {time: ISO time}"),
      mode: z
        .enum(['scratch', 'place'])
        .default('scratch')
        .describe('scratch: a private folder and a throwaway postmaster on loopback (drills); place: into data_dir'),
      data_dir: z
        .string()
        .startsWith('/')
        .optional()
        .describe('place: the data directory to restore into (its server stopped; --delta when it holds a cluster)'),
      checks: ChecksSchema.optional().describe('scratch: checks on the restored cluster'),
      database: z.string().default('postgres').describe('scratch: the database the checks run in'),
      pgbackrest: CredentialsSchema.optional(),
      storage: StorageSchema.optional(),
    })
    .superRefine((i, ctx) => {
      if (i.mode === 'place' && !i.data_dir) ctx.addIssue({ code: 'custom', path: ['data_dir'], message: 'mode: place needs the data_dir to restore into' });
    }),
  output: z.object({
    ...restoredPointOutput,
    mode: z.enum(['scratch', 'place']),
    label: z.string().nullable().describe('the backup set restored from (scratch)'),
    reached: z.string().nullable().describe('the time of the last transaction replayed (scratch)'),
    rpo_ms: z
      .number()
      .nullable()
      .describe(
        "target time (latest: the restore's start) − last replayed commit: what the restore lost against the target (scratch); the report takes it as the RPO instead of the base backup's age",
      ),
    rpo_method: z.literal('PITR gap').describe('how rpo_ms was measured, as reports name it'),
    checks: z.array(CheckResultSchema),
  }),
});

/** The pgBackRest integration: its actions, and its kind of point, kept in the repository: verify restores it into scratch, prune expires it there. */
export const spec = defineIntegrationSpec({
  name: 'pgbackrest',
  actions: [pgbackrestBackup, pgbackrestRestore],
  kinds: {
    pgbackrest: {
      verify: {
        pgbackrest: CredentialsSchema.extend({ database: z.string().default('postgres').describe('the database the checks run in') })
          .optional()
          .describe("pgBackRest points: the repository's credentials (from secrets), which the point does not record"),
      },
      verify_secrets: secretsOf('pgbackrest'),
      prune: {
        pgbackrest: CredentialsSchema.optional().describe(
          "pgBackRest points: the repository's credentials (from secrets); prune expires the backup there with pgBackRest's own expire",
        ),
      },
      prune_secrets: secretsOf('pgbackrest'),
    },
  },
});
