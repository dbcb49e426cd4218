// A streaming standby of a startPostgres() primary for tests: pg_basebackup -R of the primary into a private folder, started on a free loopback port, waited on until it streams.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres, runCluster, serverUser, type PostgresServer } from './postgres.ts';

/**
 * What a primary needs to feed a standby that pg_rewind can later turn around: WAL for
 * replicas, full-page writes and hint-bit logging (pg_rewind refuses a cluster without
 * `wal_log_hints` or data checksums), and senders to spare. Give them to startPostgres().
 */
export const REPLICATION_SETTINGS: Readonly<Record<string, string>> = {
  wal_level: 'replica',
  max_wal_senders: '10',
  wal_log_hints: 'on',
  full_page_writes: 'on',
  wal_keep_size: '256MB',
  hot_standby: 'on',
};

export interface StandbyOptions {
  /** Its primary_conninfo's application_name: how the primary's pg_stat_replication names it. */
  name?: string;
  log?: (line: string) => void;
}

/** Polls until `check` holds; throws with `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A hot standby of `primary` (started with REPLICATION_SETTINGS): a base backup streamed with
 * its WAL (`pg_basebackup -R -X stream`, which writes standby.signal and primary_conninfo), run
 * as the cluster's OS user, started on its own loopback port. Resolves once its WAL receiver
 * streams. Its superuser and password are the primary's (the backup copies the roles).
 */
export async function startStandby(primary: PostgresServer, options: StandbyOptions = {}): Promise<PostgresServer> {
  const bin = ensurePostgres(options.log);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'rebound-pg-standby-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const name = options.name ?? 'standby';
  const backup = spawnSync(
    join(bin, 'pg_basebackup'),
    ['-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'rebound', '-d', `application_name=${name}`],
    // The password only in the environment; -R copies it into primary_conninfo, as a test cluster may keep it.
    { encoding: 'utf8', cwd: dir, env: { ...process.env, PGPASSWORD: primary.password }, ...user },
  );
  if (backup.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_basebackup of the primary on port ${primary.port} failed: ${backup.stderr}`);
  }
  // full_page_writes stays on: once promoted, this server is the source pg_rewind reads.
  const standby = await runCluster({ bin, dir, dataDir, password: primary.password, user, settings: { full_page_writes: 'on' } });
  try {
    await until(
      async () => (await standby.query<{ status: string }>('select status from pg_stat_wal_receiver'))[0]?.status === 'streaming',
      `the standby on port ${standby.port} did not stream from the primary on port ${primary.port}`,
    );
  } catch (error) {
    await standby.destroy();
    throw error;
  }
  return standby;
}
