// A ledger table on an archiving cluster for the point-in-time tests: rows committed one per transaction, waiting until they are archived, and a check that holds only on exactly rows 1..n.
import type { PostgresServer } from '../../stack/postgres.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function ledger(pg: () => PostgresServer) {
  return {
    create: () => pg().query('create table ledger (i int primary key, at timestamptz not null default now())', [], 'postgres'),

    /** Commits row `i` in its own transaction and returns its commit's time as the server saw it (no later than the commit). */
    async commitRow(i: number): Promise<number> {
      const [row] = await pg().query<{ at: Date }>('insert into ledger (i) values ($1) returning at', [i], 'postgres');
      return row!.at.getTime();
    },

    /** The server's clock now: a target time after every commit so far and before the next one. */
    async now(): Promise<string> {
      return (await pg().query<{ t: Date }>('select clock_timestamp() as t'))[0]!.t.toISOString();
    },

    /** Waits until the segment holding everything committed so far is in the repository. */
    async archived(timeoutMs = 120_000): Promise<void> {
      const [{ wal }] = (await pg().query<{ wal: string }>('select pg_walfile_name(pg_current_wal_lsn()) as wal')) as [{ wal: string }];
      await pg().query('select pg_switch_wal()');
      for (const deadline = Date.now() + timeoutMs; ;) {
        if (Date.now() > deadline) throw new Error(`WAL segment ${wal} was not archived within ${timeoutMs} ms: is archiving broken?`);
        const [{ last }] = (await pg().query<{ last: string | null }>('select last_archived_wal as last from pg_stat_archiver')) as [{ last: string | null }];
        if (last && last >= wal) return;
        await sleep(200);
      }
    },
  };
}

/** A check that holds only when the restored ledger has exactly rows 1..n. */
export const exactly = (n: number) => ({ sql: [{ query: `select 1 from ledger having count(*) = ${n} and coalesce(max(i), 0) = ${n}`, min_rows: 1 }] });
