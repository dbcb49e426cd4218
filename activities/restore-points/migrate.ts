// The catalog database's migrations: the SQL files in migrations/, applied once each, in order.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));
/** Serialises workers migrating one catalog at once. */
const LOCK = 727274;

export async function applyMigrations(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1::bigint)', [LOCK]);
    await client.query('create table if not exists rebound_migrations (name text primary key, applied_at timestamptz not null default now())');
    const done = new Set((await client.query<{ name: string }>('select name from rebound_migrations')).rows.map((r) => r.name));
    for (const file of readdirSync(MIGRATIONS)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      if (done.has(file)) continue;
      await client.query('begin');
      await client.query(readFileSync(`${MIGRATIONS}${file}`, 'utf8'));
      await client.query('insert into rebound_migrations (name) values ($1)', [file]);
      await client.query('commit');
    }
  } finally {
    await client.query('select pg_advisory_unlock($1::bigint)', [LOCK]).catch(() => undefined);
    client.release();
  }
}
