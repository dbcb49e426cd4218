import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { ChecksSchema, CheckResultSchema } from './checks.ts';

/** A restore point named by id, or found: the latest (verified) one of a service, before a time. */
export const RestorePointRefSchema = z.union([
  z.string().min(1).describe('a restore point id'),
  z.strictObject({
    service: z.string(),
    latest: z.enum(['any', 'verified']).default('verified'),
    before: z.string().datetime({ offset: true }).optional(),
  }),
]);

/** What every backup action returns about the restore point it committed. */
export const committedPointOutput = {
  restore_point_id: z.string(),
  service: z.string(),
  object: z.string(),
  size: z.number(),
  sha256: z.string(),
  storage: z.string(),
  completed_at: z.string(),
};

export const catalogResolve = defineAction({
  name: 'catalog.resolve',
  summary: 'Find a restore point: by id, the latest, the latest verified, or the latest before a time',
  kind: 'activity',
  backend: 'catalog',
  impact: 'read',
  secret_inputs: STORAGE_SECRETS,
  input: z.strictObject({ restore_point: RestorePointRefSchema, storage: StorageSchema.optional() }),
  output: z.object({
    restore_point_id: z.string(),
    service: z.string(),
    kind: z.string(),
    status: z.string(),
    completed_at: z.string(),
    restore_point_age_ms: z.number(),
    object: z.string(),
    sha256: z.string(),
  }),
});

export const restorePointsPrune = defineAction({
  name: 'restore_points.prune',
  summary: 'Delete restore points outside a retention policy (objects first, then index entries)',
  kind: 'activity',
  backend: 'storage',
  impact: 'write',
  secret_inputs: STORAGE_SECRETS,
  drill_targets: ['storage'],
  input: z.strictObject({
    service: z.string().optional(),
    keep_last: z.number().int().min(0).default(0),
    keep_daily: z.number().int().min(0).default(0),
    keep_weekly: z.number().int().min(0).default(0),
    keep_monthly: z.number().int().min(0).default(0),
    min_keep: z.number().int().min(1).default(1).describe('never fewer points than this per service; the newest verified point is always kept'),
    dry_run: z.boolean().default(false),
    storage: StorageSchema.optional(),
  }),
  output: z.object({ kept: z.array(z.string()), deleted: z.array(z.string()), dry_run: z.boolean() }),
});

export const backupVerify = defineAction({
  name: 'backup.verify',
  summary: "Check a restore point's sha256, test-restore it into a scratch database and run checks",
  kind: 'activity',
  // Until the point is found; failures after that name its kind (postgres, mongodb).
  backend: 'restore-points',
  impact: 'read',
  secret_inputs: ['scratch', ...STORAGE_SECRETS],
  input: z.strictObject({
    restore_point: RestorePointRefSchema,
    scratch: z
      .string()
      .optional()
      .describe(
        'PostgreSQL and MongoDB points: connection URL (from a secret) of a server where a scratch database may be created and dropped; Redis points load into a scratch server on the worker; search points: URL (from a secret) of a cluster with the snapshot repository, default the cluster the point names, where scratch indices are restored and deleted',
      ),
    checks: ChecksSchema.default({ tables: [], min_rows: {}, sql: [], match: [] }),
    storage: StorageSchema.optional(),
  }),
  output: z.object({ restore_point_id: z.string(), status: z.enum(['verified', 'failed']), checks: z.array(CheckResultSchema) }),
});
