// FerretDB v1.24.2 (MongoDB wire protocol on PostgreSQL), built from our own main in stack/ferretdb/, for tests and demos.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { listening, ServerProcess, type RestartableServer } from './process.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { ROOT, TOOLS } from './tools.ts';

/** Pinned in stack/ferretdb/go.mod (and go.sum); the folder name below must follow it. */
export const FERRETDB_VERSION = 'v1.24.2';
const SOURCE = join(ROOT, 'stack', 'ferretdb');

/**
 * The FerretDB binary, built once with the Go module proxy into .tools/ (about a minute on
 * two cores; cached after). Built into a partial path and renamed, so a build that two
 * processes start at once, or one that is interrupted, never leaves a broken binary.
 */
export function ensureFerretDb(log: (line: string) => void = () => {}): string {
  if (process.env.REBOUND_FERRETDB_BIN) return process.env.REBOUND_FERRETDB_BIN;
  const dir = join(TOOLS, `ferretdb-${FERRETDB_VERSION}`);
  const binary = join(dir, 'ferretdb');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`building FerretDB ${FERRETDB_VERSION} (stack/ferretdb) with go build into ${dir} (first run only)`);
  const partial = `${binary}.partial-${process.pid}`;
  const go = spawnSync('go', ['build', '-trimpath', '-o', partial, '.'], {
    encoding: 'utf8',
    cwd: SOURCE,
    env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' },
  });
  if (go.status !== 0 || !existsSync(partial)) {
    rmSync(partial, { force: true });
    throw new Error(`cannot build FerretDB ${FERRETDB_VERSION} (go exited ${go.status}): ${(go.stderr || String(go.error ?? '')).trim().slice(-2000)}`);
  }
  renameSync(partial, binary);
  return binary;
}

export interface FerretDbServer extends RestartableServer {
  port: number;
  /** The PostgreSQL cluster FerretDB stores into; its logins are FerretDB's users. */
  pg: PostgresServer;
  /** A MongoDB URL with the cluster's superuser and its password: tests and worker environments only. */
  url(options?: { user?: string; password?: string; database?: string }): string;
  password: string;
  /** Stops FerretDB only (fault tests); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops FerretDB, then the PostgreSQL cluster it started, and removes its folder. */
  destroy(): Promise<void>;
}

/**
 * FerretDB on a free loopback port over a throwaway PostgreSQL cluster (or `options.pg`).
 * Its PostgreSQL URL has no password: FerretDB then logs in to PostgreSQL with each
 * client's own credentials (authMechanism=PLAIN, the only one it speaks), so a wrong
 * password fails as it would on a real server.
 */
export async function startFerretDb(options: { pg?: PostgresServer; log?: (line: string) => void } = {}): Promise<FerretDbServer> {
  const binary = ensureFerretDb(options.log);
  const pg = options.pg ?? (await startPostgres({ log: options.log }));
  const ownsPg = !options.pg;
  const dir = mkdtempSync(join(tmpdir(), 'rebound-ferretdb-'));
  const port = await freePort();
  const proc = new ServerProcess({
    name: `FerretDB on port ${port}`,
    command: binary,
    args: ['-listen', `127.0.0.1:${port}`, '-postgresql-url', `postgres://127.0.0.1:${pg.port}/ferretdb`],
    logFile: join(dir, 'ferretdb.log'),
    ready: () => listening(port),
  });
  const server: FerretDbServer = {
    port,
    pg,
    password: pg.password,
    url: ({ user = 'rebound', password = pg.password, database = '' } = {}) =>
      `mongodb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}?authMechanism=PLAIN&directConnection=true`,
    pid: () => proc.pid,
    start: () => proc.start(),
    stop: () => proc.stop(),
    async destroy() {
      await server.stop();
      if (ownsPg) await pg.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    if (!(await pg.query("select 1 from pg_database where datname = 'ferretdb'")).length) await pg.query('create database ferretdb');
    await server.start();
  } catch (error) {
    if (ownsPg) await pg.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return server;
}
