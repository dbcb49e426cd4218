// Restore-point action definitions: catalog.resolve, catalog.resolve_set, restore_points.prune and backup.verify.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { ChecksSchema, CheckResultSchema } from './checks.ts';
import { mergeKindFields, mergeKindSecrets } from '../integration.ts';
import { INTEGRATIONS } from './integrations.ts';
import { RestorePointRefSchema } from './points.ts';

/** What each kind of point needs to be test-restored, or pruned, as each integration declares it (a field several kinds share appears once). */
const verifyFields = mergeKindFields(INTEGRATIONS, 'verify');
const pruneFields = mergeKindFields(INTEGRATIONS, 'prune');

export const catalogResolve = defineAction({
  name: 'catalog.resolve',
  summary: 'Find a restore point: by id, the latest, the latest verified, the latest before a time, or the newest restorable to a time',
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
    restorable_from: z.string().describe('from when the point can be restored: the end of its backup for a point-in-time point, else its completion'),
    window: z
      .object({ from: z.string(), to: z.string() })
      .nullable()
      .describe("point-in-time points: the recoverable window their repository held at the point's commit (it grows as WAL is archived)"),
    rpo_ms: z
      .null()
      .optional()
      .describe("point-in-time points: null, since their base backup's age is not what a restore to a time loses; the restore step measures it"),
  }),
});

/** One point of a set, as `catalog.resolve_set` gives it: what a restore step of that service needs. */
const SetPointSchema = z.object({
  restore_point_id: z.string(),
  kind: z.string(),
  status: z.string(),
  completed_at: z.string(),
  restore_point_age_ms: z.number(),
});

/**
 * A consistent set: the points one backup run took of several services ("everything as of
 * 02:00"). A restore-set runbook resolves it once, then restores each service from
 * `points['<service>']`, so every service comes back from the same night.
 */
export const catalogResolveSet = defineAction({
  name: 'catalog.resolve_set',
  summary: 'Find a consistent set of restore points (one backup run across services): the newest, or the newest completed before a time',
  kind: 'activity',
  backend: 'catalog',
  impact: 'read',
  secret_inputs: STORAGE_SECRETS,
  input: z.strictObject({
    before: z
      .union([z.literal(''), z.string().datetime({ offset: true })])
      .default('')
      .describe('every point of the set completed before this time ("everything as of 02:00"); empty: the newest set'),
    services: z.array(z.string()).default([]).describe('the set must hold a point of each; newer sets missing one are passed over'),
    latest: z.enum(['any', 'verified']).default('any').describe('verified: every point of the set must have passed backup.verify'),
    set_id: z.string().optional().describe('this set, by id (a backup run id)'),
    storage: StorageSchema.optional(),
  }),
  output: z.object({
    set_id: z.string(),
    services: z.array(z.string()),
    points: z.record(z.string(), SetPointSchema).describe("by service: `steps.<id>.outputs.points['orders-pg'].restore_point_id`"),
    completed_at: z.string().describe('when the last point of the set completed'),
    restore_point_age_ms: z.number().describe('age of the oldest point of the set: the RPO a restore of the whole set gives'),
  }),
});

export const restorePointsPrune = defineAction({
  name: 'restore_points.prune',
  summary:
    'Delete restore points outside a retention policy (data kept elsewhere — EBS snapshots, CSI VolumeSnapshots, search snapshots — then objects, then index entries)',
  kind: 'activity',
  backend: 'storage',
  impact: 'write',
  secret_inputs: [...mergeKindSecrets(INTEGRATIONS, 'prune'), ...STORAGE_SECRETS],
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
    ...pruneFields,
  }),
  output: z.object({
    kept: z.array(z.string()),
    deleted: z.array(z.string()),
    /** Points the policy would delete but whose Object Lock has not passed: kept, not an error; a later prune deletes them. */
    locked: z.array(z.object({ id: z.string(), retain_until: z.string() })),
    dry_run: z.boolean(),
  }),
});

export const backupVerify = defineAction({
  name: 'backup.verify',
  summary: "Check a restore point's sha256, test-restore it into a scratch database and run checks",
  kind: 'activity',
  // Until the point is found; failures after that name its kind (postgres, mongodb).
  backend: 'restore-points',
  impact: 'read',
  secret_inputs: [...mergeKindSecrets(INTEGRATIONS, 'verify'), ...STORAGE_SECRETS],
  input: z.strictObject({
    restore_point: RestorePointRefSchema,
    ...verifyFields,
    checks: ChecksSchema.default({ tables: [], min_rows: {}, sql: [], match: [] }),
    storage: StorageSchema.optional(),
  }),
  output: z.object({ restore_point_id: z.string(), status: z.enum(['verified', 'failed']), checks: z.array(CheckResultSchema) }),
});
