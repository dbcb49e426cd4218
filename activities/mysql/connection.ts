// MySQL/MariaDB plumbing for the mysql actions: URLs split for the client tools (the password in a 0600 option file), finding the tools, short-lived driver connections, retry verdicts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { ActionError } from '../runtime/errors.ts';

export interface MysqlUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Where it is, without credentials: what a manifest records. */
  identity: Record<string, unknown>;
}

export function parseMysqlUrl(url: string, database?: string): MysqlUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActionError('invalid_input', 'the connection string is not a URL (mysql://user:password@host:port/database)', { retryable: false });
  }
  if (!/^(mysql|mariadb):$/.test(parsed.protocol))
    throw new ActionError(
      'invalid_input',
      `the connection URL's scheme is ${parsed.protocol.replace(/:$/, '')}; write mysql://user:password@host:port/database`,
      {
        retryable: false,
      },
    );
  const db = database ?? decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!db) throw new ActionError('invalid_input', 'no database: name one in the URL (mysql://…/registry) or as database:', { retryable: false });
  const host = parsed.hostname || '127.0.0.1';
  const port = Number(parsed.port || '3306');
  const user = decodeURIComponent(parsed.username);
  return { host, port, user, password: decodeURIComponent(parsed.password), database: db, identity: { host, port, database: db, user } };
}

/** A value as an option file reads it: double-quoted, with its backslashes and quotes escaped. */
const optionValue = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * The client tools' connection as a [client] option file in a private folder (0700, the file
 * 0600): a password in argv is readable by every user through `ps`, and MYSQL_PWD is
 * deprecated. `--defaults-extra-file` must be the tools' first argument. `remove()` deletes it.
 */
export function optionFile(conn: MysqlUrl): { arg: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-mysql-'));
  const file = join(dir, 'client.cnf');
  const lines = ['[client]', `host=${optionValue(conn.host)}`, `port=${conn.port}`, `user=${optionValue(conn.user)}`, `password=${optionValue(conn.password)}`];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { arg: `--defaults-extra-file=${file}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** MariaDB's name for a tool, else MySQL's: whichever this worker has. */
export function mysqlTool(kind: 'dump' | 'client'): string {
  const names = kind === 'dump' ? ['mariadb-dump', 'mysqldump'] : ['mariadb', 'mysql'];
  for (const name of names) {
    for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new ActionError('unsupported', `this worker has neither ${names.join(' nor ')}; install mariadb-client (or mysql-client)`, { retryable: false });
}

export function toolVersion(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

/** A client tool's failure that no retry mends: refused credentials, a missing database or table, bad SQL. */
export function retryableMysqlError(stderr: string): boolean {
  return !/Access denied|Unknown database|doesn't exist|You have an error in your SQL syntax|Unknown table|command denied/i.test(stderr);
}

/** The driver's error as a catalog code: refused credentials and missing databases are final, the rest is worth a retry. */
function driverFailure(error: unknown, conn: MysqlUrl, mask: (t: string) => string): ActionError {
  const e = error as { code?: string; message?: string };
  const where = `MySQL at ${conn.host}:${conn.port}`;
  const message = mask(e.message ?? String(error));
  if (e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 'ER_DBACCESS_DENIED_ERROR')
    return new ActionError('auth_failed', `${where} refused user ${conn.user}: ${message}`, { retryable: false });
  if (e.code === 'ER_BAD_DB_ERROR') return new ActionError('not_found', `${where} has no database ${conn.database}`, { retryable: false });
  return new ActionError('unreachable', `cannot connect to ${where}: ${message}`, { retryable: true });
}

/** Runs queries on a short-lived connection (to `conn.database`, or to no database). */
export async function withConnection<T>(
  conn: MysqlUrl,
  fn: (c: mysql.Connection) => Promise<T>,
  mask: (t: string) => string,
  options: { noDatabase?: boolean } = {},
): Promise<T> {
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      password: conn.password,
      ...(options.noDatabase ? {} : { database: conn.database }),
      connectTimeout: 10_000,
    });
  } catch (error) {
    throw driverFailure(error, conn, mask);
  }
  connection.on('error', () => undefined);
  try {
    return await fn(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

export const quoteIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;
