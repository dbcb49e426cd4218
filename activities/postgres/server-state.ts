// What a PostgreSQL server says of its place in replication: primary or standby, timeline, system identifier, WAL receiver, and a timeline's history file (where a promotion branched off, and when).
import type pg from 'pg';
import { ActionError } from '../runtime/errors.ts';

export interface ServerRole {
  standby: boolean;
  /** A primary: the timeline it writes; a standby: the one it receives (or its last restartpoint's). */
  timeline: number | null;
  /** pg_control_system()'s identifier; null when the role may not read it. */
  system: string | null;
  current_lsn: string | null;
  /** A standby's WAL receiver: "host:port (status)". */
  upstream: string | null;
  now: Date;
}

/** host:port of a connection URL, for messages and outputs: never its credentials. */
export function serverName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '5432'}`;
  } catch {
    throw new ActionError('invalid_input', 'the connection string is not a URL (postgres://user:password@host:port/database)', { retryable: false });
  }
}

/** A query a role without the privilege cannot run (pg_control_*, pg_read_file): its first value, or null. */
async function optional<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T | null> {
  try {
    const { rows } = await client.query(sql, params);
    return (rows[0] ? Object.values(rows[0])[0] : null) as T | null;
  } catch {
    return null;
  }
}

export async function readRole(client: pg.Client): Promise<ServerRole> {
  const { rows } = await client.query(
    `select pg_is_in_recovery() as standby, clock_timestamp() as now,
            case when not pg_is_in_recovery() then pg_current_wal_lsn()::text end as current_lsn,
            case when not pg_is_in_recovery() then pg_walfile_name(pg_current_wal_lsn()) end as walfile,
            (select received_tli from pg_stat_wal_receiver) as received_tli,
            (select sender_host || ':' || sender_port || ' (' || status || ')' from pg_stat_wal_receiver) as upstream`,
  );
  const r = rows[0] as {
    standby: boolean;
    now: Date;
    current_lsn: string | null;
    walfile: string | null;
    received_tli: number | null;
    upstream: string | null;
  };
  // A WAL file's name starts with its timeline, in hex.
  const timeline = r.walfile
    ? parseInt(r.walfile.slice(0, 8), 16)
    : (r.received_tli ?? (await optional<number>(client, 'select timeline_id from pg_control_checkpoint()')));
  const system = await optional<string>(client, 'select system_identifier::text from pg_control_system()');
  return { standby: r.standby, timeline, system, current_lsn: r.current_lsn, upstream: r.upstream, now: r.now };
}

export interface TimelineHistory {
  parent: number;
  /** Where this timeline branched off its parent. */
  switch_lsn: string;
  modified: string | null;
  /** Seconds since the history file was written, on the server's clock (it was written by the promotion). */
  age_seconds: number | null;
}

/** pg_wal/<timeline>.history's last line (reading it needs superuser or pg_read_server_files); undefined for timeline 1 or when unreadable. */
export async function readHistory(client: pg.Client, timeline: number): Promise<TimelineHistory | undefined> {
  if (timeline < 2) return undefined;
  const file = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
  const text = await optional<string>(client, 'select pg_read_file($1)', [file]);
  const last = text
    ?.trim()
    .split('\n')
    .filter((l) => /^\d+\s/.test(l))
    .at(-1)
    ?.split(/\s+/);
  if (!last || last.length < 2) return undefined;
  const stat = await client
    .query(
      `select (s).modification as modified, extract(epoch from clock_timestamp() - (s).modification)::float8 as age
         from (select pg_stat_file($1) as s) f`,
      [file],
    )
    .then((r) => r.rows[0] as { modified: Date; age: number })
    .catch(() => undefined);
  return { parent: Number(last[0]), switch_lsn: last[1]!, modified: stat?.modified.toISOString() ?? null, age_seconds: stat?.age ?? null };
}
