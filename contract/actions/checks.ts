// Declared checks of a restored database's content, shared by backup.verify and postgres.check.
import { z } from 'zod';

export const ChecksSchema = z.strictObject({
  tables: z.array(z.string()).default([]),
  min_rows: z.record(z.string(), z.number().int().min(0)).default({}),
  sql: z.array(z.strictObject({ query: z.string(), min_rows: z.number().int().min(0).default(1) })).default([]),
});
export type Checks = z.output<typeof ChecksSchema>;
export const CheckResultSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });
export type CheckResult = z.infer<typeof CheckResultSchema>;
