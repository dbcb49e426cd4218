// PostgreSQL plumbing for the postgres actions: URLs split for the pg tools, finding pg_dump/pg_restore, short-lived clients, retry verdicts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ActionError } from '../runtime/errors.ts';

/**
 * A connection string split for the pg tools: host, port, user and database as
 * arguments, the password in PGPASSWORD — never in argv, where `ps` would show it.
 */
export function toolConnection(
  url: string,
  database?: string,
): { args: string[]; env: NodeJS.ProcessEnv; database: string; identity: Record<string, unknown> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActionError('invalid_input', 'the connection string is not a URL (postgres://user:password@host:port/database)', { retryable: false });
  }
  const db = database ?? (decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres');
  const env: NodeJS.ProcessEnv = { PGPASSWORD: decodeURIComponent(parsed.password), PGCONNECT_TIMEOUT: '10' };
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const host = parsed.hostname || '127.0.0.1';
  const port = parsed.port || '5432';
  return {
    args: ['--host', host, '--port', port, '--username', decodeURIComponent(parsed.username)],
    env,
    database: db,
    identity: { host, port: Number(port), database: db, user: decodeURIComponent(parsed.username) },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Transient connection trouble (the server restarting, a network blip) is worth a retry. */
export function retryablePgError(stderr: string): boolean {
  if (
    /password authentication failed|does not exist|permission denied|no matching (tables|schemas)|invalid input syntax|syntax error|role .* does not exist|input file (appears|does not appear)/i.test(
      stderr,
    )
  )
    return false;
  return true;
}

function pgBinDir(): string | undefined {
  if (process.env.REBOUND_PG_BIN) return process.env.REBOUND_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(root, version, 'bin') : undefined;
}

/** pg_dump / pg_restore: $REBOUND_PG_BIN, Debian's newest, or whatever is on PATH. */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const dir = pgBinDir();
  return dir ? join(dir, name) : name;
}

export function toolVersion(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

/** Runs queries on a short-lived connection; connection failures are retryable. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>, mask: (t: string) => string): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const message = mask((error as Error).message);
    throw new ActionError('unreachable', `cannot connect: ${message}`, { retryable: retryablePgError(message) });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
