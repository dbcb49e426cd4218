// What every action that takes or restores a restore point shares: the point reference, the backup input fields, and what backups and restores report.
import { z } from 'zod';
import { StorageSchema } from '../storage.ts';

/** A restore point named by id, or found: the latest (verified) one of a service, before a time. */
export const RestorePointRefSchema = z.union([
  z.string().min(1).describe('a restore point id'),
  z
    .strictObject({
      service: z.string(),
      latest: z.enum(['any', 'verified']).default('verified'),
      before: z.string().datetime({ offset: true }).optional().describe('the newest point completed before this time'),
      restorable_to: z
        .string()
        .datetime({ offset: true })
        .optional()
        .describe(
          'the newest point a restore can bring to this time: a point-in-time point (pgbackrest) whose backup ended by then, or a dump completed by then',
        ),
    })
    .refine((r) => !(r.before && r.restorable_to), { message: 'give before or restorable_to, not both', path: ['restorable_to'] }),
]);

/** The service a backup takes a point of: its folder in storage, so a name, never a path. */
export const ServiceSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i);

/** Where a backup writes its point, and what the point carries besides the data: every backup action's last fields. */
export const backupPointFields = {
  storage: StorageSchema.optional(),
  labels: z.record(z.string(), z.string()).default({}),
  set_id: z.string().optional().describe('defaults to the run id, so one run backing up several services forms a set'),
};

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

/** What every restore action reports about the point it restored: the drill report's per-service RPO. */
export const restoredPointOutput = {
  restore_point_id: z.string(),
  service: z.string().describe('the service the point was taken of'),
  restore_point_age_ms: z.number().describe("the point's age when restored: this service's RPO"),
};
