// mysql.check: tables exist, minimum row counts and custom queries, on a live database.
import type mysql from 'mysql2/promise';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { parseMysqlUrl, quoteIdent, withConnection } from './connection.ts';
import { mysqlCheck } from '../../contract/actions/mysql.ts';
import type { CheckResult, Checks } from '../../contract/actions/checks.ts';

/** A failed check is retryable: a validation right after a restore may race replication. */
export const mysqlCheckImpl = defineImpl({
  spec: mysqlCheck,
  async run(input, ctx) {
    const conn = parseMysqlUrl(input.target, input.database);
    const checks = await withConnection(conn, (c) => runChecks(c, input.checks, ctx.mask), ctx.mask);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length)
      throw new ActionError('check_failed', `database ${conn.database}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, { retryable: true });
    return { checks };
  },
});

type Rows = Array<Record<string, unknown>>;
const rows = async (c: mysql.Connection, sql: string, params: unknown[] = []): Promise<Rows> => (await c.query(sql, params))[0] as Rows;

/** Whether the connection's database has the table (a view counts). */
async function exists(c: mysql.Connection, table: string): Promise<boolean> {
  return (await rows(c, 'select 1 from information_schema.tables where table_schema = database() and table_name = ?', [table])).length > 0;
}

/** Runs declared checks; a failing query is a failed check, not a failed step. */
export async function runChecks(c: mysql.Connection, checks: Checks, mask: (t: string) => string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const table of checks.tables) {
    const found = await exists(c, table);
    results.push({ check: `table ${table}`, ok: found, detail: found ? 'exists' : 'missing' });
  }
  for (const [table, min] of Object.entries(checks.min_rows)) {
    const count = (await exists(c, table)) ? Number((await rows(c, `select count(*) as n from ${quoteIdent(table)}`))[0]!.n) : -1;
    results.push({ check: `rows in ${table} ≥ ${min}`, ok: count >= min, detail: count >= 0 ? `${count} rows` : 'table missing' });
  }
  for (const { query, min_rows } of checks.sql) {
    try {
      const found = (await rows(c, query)).length;
      results.push({ check: `sql: ${query}`, ok: found >= min_rows, detail: `${found} rows (need ${min_rows})` });
    } catch (error) {
      results.push({ check: `sql: ${query}`, ok: false, detail: mask((error as Error).message) });
    }
  }
  return results;
}
