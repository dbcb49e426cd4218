// A throwaway postmaster on a data directory pgBackRest restored: socket only in a private folder, no archiving (the production repository gets nothing from it), waited on until recovery has promoted it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import type { Stanza } from './command.ts';

/** The server binaries of PostgreSQL `major` on this worker (Debian's layout, or $REBOUND_PG_BIN). */
function postgresBinary(major: string): string {
  const dirs = [process.env.REBOUND_PG_BIN, `/usr/lib/postgresql/${major}/bin`].filter((d): d is string => !!d);
  for (const dir of dirs) if (existsSync(join(dir, 'postgres'))) return join(dir, 'postgres');
  const have = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').join(', ') : 'none';
  throw new ActionError('unsupported', `a scratch restore needs PostgreSQL ${major}'s server binaries on the worker (it has: ${have})`, { retryable: false });
}

export interface Scratch {
  /** A client on the scratch server, as the cluster's superuser through the private socket. */
  client(database: string): Promise<pg.Client>;
  stop(): Promise<void>;
}

/** The server's log tail, for a failed recovery: PostgreSQL says there why it stopped. */
const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-6).join(' | ') : '(no log)');

/**
 * Starts `postgres` on the restored `dataDir` with the private folder as its only socket and a
 * trust hba for it (only the worker's user can enter the folder), and waits until it accepts
 * connections out of recovery. A recovery that ends before its target, or any exit, fails.
 */
export async function startScratch(
  s: Stanza,
  folder: string,
  dataDir: string,
  major: string,
  env: NodeJS.ProcessEnv,
  ctx: Pick<ActionContext, 'signal' | 'heartbeat'>,
): Promise<Scratch> {
  const hba = join(folder, 'pg_hba.conf');
  writeFileSync(hba, 'local all all trust\n', { mode: 0o600 });
  if (s.user) chownSync(hba, s.user.uid, s.user.gid);
  const log = join(folder, 'postgres.log');
  const args = ['-D', dataDir, '-c', 'port=5432', '-c', 'listen_addresses=', '-c', `unix_socket_directories=${folder}`, '-c', 'archive_mode=off'];
  args.push('-c', `hba_file=${hba}`, '-c', 'logging_collector=off', '-c', 'shared_preload_libraries=');
  const child: ChildProcess = spawn(postgresBinary(major), args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: folder,
    ...(s.user ? { uid: s.user.uid, gid: s.user.gid } : {}),
  });
  const chunks: string[] = [];
  child.stderr!.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const user = s.cluster?.user ?? 'postgres';
  const client = async (database: string) => {
    const c = new pg.Client({ host: folder, port: 5432, user, database, connectionTimeoutMillis: 10_000 });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode) return;
    child.kill('SIGINT'); // fast shutdown
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode) {
      writeFileSync(log, chunks.join(''));
      const why = chunks.join('').trim().split('\n').slice(-6).join(' | ') || tail(log);
      const early = /recovery ended before configured recovery target was reached/.test(why);
      throw new ActionError(
        early ? 'invalid_input' : 'backend_error',
        `the scratch server on the restored stanza ${s.stanza} stopped during recovery: ${why}`,
        {
          retryable: !early,
        },
      );
    }
    if (ctx.signal.aborted || Date.now() > deadline) {
      await stop();
      throw new ActionError(ctx.signal.aborted ? 'cancelled' : 'timeout', `the scratch server on stanza ${s.stanza} did not finish recovery`, {
        retryable: !ctx.signal.aborted,
      });
    }
    const ready = await client('postgres')
      .then(async (c) => {
        try {
          return !(await c.query('select pg_is_in_recovery() as r')).rows[0].r;
        } finally {
          await c.end().catch(() => undefined);
        }
      })
      .catch((error: { code?: string; message?: string }) => {
        // Refused for good (no such role), not "starting up": waiting would not change it.
        if (error.code === '28000' || error.code === '28P01' || error.code === '3D000') return error;
        return false;
      });
    if (typeof ready === 'object') {
      await stop();
      throw new ActionError('auth_failed', `the scratch server on stanza ${s.stanza} refused ${user}: ${ready.message}`, { retryable: false });
    }
    if (ready) return { client, stop };
    ctx.heartbeat({ phase: 'recovery', stanza: s.stanza });
    await new Promise((r) => setTimeout(r, 250));
  }
}
