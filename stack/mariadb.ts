// A throwaway MariaDB server for tests: Debian's mariadb-server 10.11 initialised in a private folder, on a free loopback port, with a random password (never Debian's own service).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { aptInstall } from './apt.ts';
import { freePort } from './ports.ts';
import { ServerProcess, type RestartableServer } from './process.ts';

const SERVER = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const TOOLS = ['/usr/bin/mariadb-dump', '/usr/bin/mariadb'];

/** mariadb-server and its client tools from Debian, installed when missing; the package's own service stays off. */
export function ensureMariaDb(log: (line: string) => void = () => {}): string {
  aptInstall('MariaDB', ['mariadb-server', 'mariadb-client'], () => [SERVER, INSTALL_DB, ...TOOLS].every((f) => existsSync(f)), log);
  spawnSync('systemctl', ['disable', '--now', 'mariadb.service'], { stdio: 'ignore' });
  return SERVER;
}

/** mariadbd refuses to run as root without being told to; the `mysql` user the package made owns the data. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error('running as root and there is no "mysql" user to own the data directory');
  return { uid: Number(id.stdout), gid: Number(gid.stdout) };
}

export interface MariaDbServer extends RestartableServer {
  port: number;
  /** The `rebound` user's password (all privileges): for tests and the worker's environment only. */
  password: string;
  url(database?: string, password?: string): string;
  /** Runs SQL as `rebound` (in `database`, when given) and returns the rows. */
  query(sql: string, params?: unknown[], database?: string): Promise<Array<Record<string, unknown>>>;
}

export async function startMariaDb(options: { log?: (line: string) => void } = {}): Promise<MariaDbServer> {
  ensureMariaDb(options.log);
  const user = serverUser();
  // Under the OS temp dir, not the checkout: the checkout may sit in a mode-700 directory.
  const dir = mkdtempSync(join(tmpdir(), 'rebound-mariadb-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(dataDir, user.uid, user.gid);
  }
  const init = spawnSync(
    INSTALL_DB,
    ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=socket', '--skip-test-db', ...(user ? ['--user=mysql'] : [])],
    {
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db exited ${init.status}: ${init.stderr.slice(-2000)}`);
  }
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  // Run at every start, so the user exists from the first connection on.
  const initFile = join(dir, 'init.sql');
  writeFileSync(
    initFile,
    `CREATE USER IF NOT EXISTS 'rebound'@'%' IDENTIFIED BY '${password}';\nGRANT ALL PRIVILEGES ON *.* TO 'rebound'@'%' WITH GRANT OPTION;\n`,
    { mode: 0o600 },
  );
  if (user) chownSync(initFile, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const url = (database = '', pw = password) => `mysql://rebound:${encodeURIComponent(pw)}@127.0.0.1:${port}/${database}`;
  const query = async (sql: string, params: unknown[] = [], database?: string) => {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'rebound', password, database, connectTimeout: 20_000, multipleStatements: true });
    try {
      return (await c.query(sql, params))[0] as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  };
  const proc = new ServerProcess({
    name: `MariaDB on port ${port}`,
    command: SERVER,
    args: [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'mariadb.sock')}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      `--init-file=${initFile}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--innodb-flush-log-at-trx-commit=2',
      '--skip-log-bin',
    ],
    logFile: join(dir, 'mariadb.log'),
    cwd: dir,
    ...user,
    ready: async () => (await query('select 1'), true),
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  const server: MariaDbServer = {
    port,
    password,
    url,
    query,
    pid: () => proc.pid,
    start: () => proc.start(),
    stop: () => proc.stop(),
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
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
