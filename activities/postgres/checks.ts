import { z } from 'zod';
import type pg from 'pg';

/** Declared checks of a database's content, shared by backup.verify and postgres.check. */
export const ChecksSchema = z.strictObject({
  tables: z.array(z.string()).default([]),
  min_rows: z.record(z.string(), z.number().int().min(0)).default({}),
  sql: z.array(z.strictObject({ query: z.string(), min_rows: z.number().int().min(0).default(1) })).default([]),
});
export type Checks = z.output<typeof ChecksSchema>;
export const CheckResultSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });
export type CheckResult = z.infer<typeof CheckResultSchema>;

export async function runChecks(client: pg.Client, checks: Checks, mask: (t: string) => string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const table of checks.tables) {
    const found = (await client.query('select to_regclass($1) as t', [table])).rows[0].t;
    results.push({ check: `table ${table}`, ok: found !== null, detail: found !== null ? 'exists' : 'missing' });
  }
  for (const [table, min] of Object.entries(checks.min_rows)) {
    const found = (await client.query('select to_regclass($1)::text as t', [table])).rows[0].t as string | null;
    const count = found ? Number((await client.query(`select count(*)::bigint as n from ${found}`)).rows[0].n) : -1;
    results.push({ check: `rows in ${table} ≥ ${min}`, ok: count >= min, detail: found ? `${count} rows` : 'table missing' });
  }
  for (const { query, min_rows } of checks.sql) {
    try {
      const rows = (await client.query(query)).rowCount ?? 0;
      results.push({ check: `sql: ${query}`, ok: rows >= min_rows, detail: `${rows} rows (need ${min_rows})` });
    } catch (error) {
      results.push({ check: `sql: ${query}`, ok: false, detail: mask((error as Error).message) });
    }
  }
  return results;
}
