// postgres.check: tables exist, minimum row counts and custom queries, on a live database.
import type pg from 'pg';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { toolConnection, withClient, withDatabase } from './connection.ts';
import { postgresCheck } from '../../contract/actions/postgres.ts';
import type { CheckResult, Checks } from '../../contract/actions/checks.ts';

/** A failed check is retryable: a validation right after a restore may race replication. */
export const postgresCheckImpl = defineImpl({
  spec: postgresCheck,
  async run(input, ctx) {
    const database = input.database ?? toolConnection(input.target).database;
    const checks = await withClient(withDatabase(input.target, database), (client) => runChecks(client, input.checks, ctx.mask), ctx.mask);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length)
      throw new ActionError('check_failed', `database ${database}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, { retryable: true });
    return { checks };
  },
});

/** Runs declared checks; a failing query is a failed check, not a failed step. */
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
