// Declared checks of a restored database's content, shared by backup.verify, postgres.check and mongodb.check.
import { z } from 'zod';

export const ChecksSchema = z.strictObject({
  tables: z.array(z.string()).default([]),
  min_rows: z.record(z.string(), z.number().int().min(0)).default({}),
  sql: z.array(z.strictObject({ query: z.string(), min_rows: z.number().int().min(0).default(1) })).default([]),
  /** MongoDB: a filter (Extended JSON) that at least `min_rows` documents of `collection` (db.collection) must match. */
  match: z
    .array(z.strictObject({ collection: z.string(), filter: z.record(z.string(), z.unknown()).default({}), min_rows: z.number().int().min(0).default(1) }))
    .default([]),
});
export type Checks = z.output<typeof ChecksSchema>;
export const CheckResultSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });
export type CheckResult = z.infer<typeof CheckResultSchema>;
