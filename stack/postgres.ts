// A throwaway PostgreSQL cluster for tests and the demo: Debian's binaries, initdb on a free loopback port, stop/start/destroy, queries.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';
import { alive, ServerProcess } from './process.ts';

/** Debian's PostgreSQL (pinned to the distribution's major version, 15 on bookworm). */
export const POSTGRES_MAJOR = '15';

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** The server binaries, installed from Debian's packages when missing. */
export function ensurePostgres(log: (line: string) => void = () => {}): string {
  const found = process.env.REBOUND_PG_BIN ?? binDir();
  if (found) return found;
  log(`installing postgresql-${POSTGRES_MAJOR} from Debian's packages`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', `postgresql-${POSTGRES_MAJOR}`], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const dir = binDir();
  if (!dir) throw new Error(`cannot install PostgreSQL (apt-get exited ${install.status}): ${install.stderr}`);
  return dir;
}

/** initdb refuses to run as root, so the cluster belongs to the `postgres` system user. */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error('running as root and there is no "postgres" user to own the cluster');
  return { uid: Number(id.stdout), gid: Number(gid.stdout) };
}

export interface PostgresServer {
  port: number;
  /** Superuser URL, password included: for tests and the worker's environment only. */
  url(database?: string): string;
  password: string;
  dataDir: string;
  /** The folder of its unix socket (private to the cluster's owner). */
  socketDir: string;
  /** Stops the server, keeping its data for start() (restart tests). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its private folder. */
  destroy(): Promise<void>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
}

/**
 * A throwaway cluster (initdb) on a free loopback port, with password authentication.
 * Its data, socket and password file live in a private folder under the system temp
 * directory, owned by the server's user: a checkout inside a mode-700 home directory is
 * out of that user's reach, so nothing of the server's may live there or run from there.
 */
/**
 * A connection for the test helpers, retried on a timeout: a CI machine booting a Kubernetes
 * control plane and a JVM beside this server has taken over 10 s to finish one handshake.
 */
async function connectPatiently(url: string, attempts = 3): Promise<pg.Client> {
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 20_000 });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt >= attempts || !/timeout/i.test((error as Error).message)) throw error;
    }
  }
}

export interface PostgresOptions {
  log?: (line: string) => void;
  /**
   * More server settings, appended to postgresql.conf: archiving for the pgBackRest tests. Naming
   * `fsync` or `full_page_writes` replaces the fast default the command line gives them (pg_rewind
   * needs full_page_writes on).
   */
  settings?: Record<string, string>;
  /** The server's environment beyond the worker's (an archive_command's secrets). */
  env?: NodeJS.ProcessEnv;
  /** Trust connections on the socket, which sits in the cluster's private 0700 folder: how pgBackRest reaches a cluster. */
  trustLocal?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = ensurePostgres(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-pg-'));
  const dataDir = join(dir, 'data');
  const user = serverUser();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const initdb = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'rebound', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync', '--locale=C'],
    { encoding: 'utf8', cwd: dir, ...user },
  );
  if (initdb.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${initdb.stderr}`);
  }
  // In postgresql.conf, not on the command line: ALTER SYSTEM (a test breaking archiving) must be able to override them.
  const settings = Object.entries(options.settings ?? {}).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'\n`);
  if (settings.length) appendFileSync(join(dataDir, 'postgresql.conf'), settings.join(''));
  if (options.trustLocal) {
    const hba = join(dataDir, 'pg_hba.conf');
    writeFileSync(hba, `local all all trust\n${readFileSync(hba, 'utf8')}`);
  }
  return runCluster({ bin, dir, dataDir, password, user, settings: options.settings, env: options.env });
}

/**
 * Stops a postmaster that runs on `dataDir` but was not started here (a reprotect restarted it
 * with pg_ctl), by the pid in its postmaster.pid — only if that pid's command line names the
 * data directory, so a stale file never signals another process.
 */
async function stopAdopted(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const ours = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
    } catch {
      return false;
    }
  };
  if (!pid || !ours()) return;
  process.kill(pid, 'SIGINT'); // fast shutdown
  const deadline = Date.now() + 30_000;
  while (ours() && alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Settings the command line gives a test server (fast, not durable) unless its postgresql.conf names them. */
const FAST = { fsync: 'off', full_page_writes: 'off' };

export interface ClusterFiles {
  bin: string;
  /** The private folder: the socket, the log; removed by destroy(). */
  dir: string;
  dataDir: string;
  password: string;
  user: { uid: number; gid: number } | undefined;
  /** Settings its postgresql.conf holds: the command line leaves those to it. */
  settings?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

/** A server on an existing data directory (initdb's, or a base backup's), on a free loopback port, started and answering. */
export async function runCluster(files: ClusterFiles): Promise<PostgresServer> {
  const { bin, dir, dataDir, password, user } = files;
  const port = await freePort();
  const fast = Object.entries(FAST).filter(([k]) => !(k in (files.settings ?? {})));
  const proc = new ServerProcess({
    name: `PostgreSQL on port ${port}`,
    command: join(bin, 'postgres'),
    args: ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', ...fast.flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    env: { ...process.env, ...files.env },
    logFile: join(dir, 'postgres.log'),
    cwd: dir,
    ...user,
    ready: async () => (await server.query('select 1'), true),
    intervalMs: 200,
    // Fast shutdown: disconnects clients, as a crash of the backend would look to them.
    stopSignal: 'SIGINT',
  });

  const server: PostgresServer = {
    port,
    password,
    dataDir,
    socketDir: dir,
    url: (database = 'postgres') => `postgres://rebound:${password}@127.0.0.1:${port}/${database}`,
    start: () => proc.start(),
    async stop() {
      await proc.stop();
      await stopAdopted(dataDir);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async query(sql, params, database) {
      const client = await connectPatiently(server.url(database));
      try {
        return (await client.query(sql, params as unknown[])).rows;
      } finally {
        await client.end();
      }
    },
  };
  try {
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return server;
}
