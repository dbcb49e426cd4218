// pgBackRest for tests: Debian's pgbackrest 2.45, and a PostgreSQL cluster archiving its WAL into a private encrypted repository, as a DBA would set one up.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';

const BINARY = '/usr/bin/pgbackrest';

export function ensurePgBackRest(log: (line: string) => void = () => {}): string {
  aptInstall('pgBackRest', ['pgbackrest'], () => existsSync(BINARY), log);
  return BINARY;
}

export interface ArchivingCluster {
  pg: PostgresServer;
  stanza: string;
  /** The repository folder (owned by postgres) and its passphrase. */
  repoPath: string;
  cipherPass: string;
  /** `with:` of pgbackrest.backup for this cluster, the passphrase as a reference to the secret `secretName`. */
  backupWith(secretName: string): Record<string, unknown>;
  destroy(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout),
    gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout),
  };
}

/**
 * A cluster whose archive_command pushes every WAL segment (at least each `archiveTimeout`)
 * into an aes-256-cbc repository with pgBackRest; the stanza is not created: pgbackrest.backup
 * creates and checks it on its first run.
 */
export async function startArchivingCluster(options: { archiveTimeout?: string; log?: (line: string) => void } = {}): Promise<ArchivingCluster> {
  ensurePgBackRest(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-repo-'));
  const user = postgresUser();
  const repoPath = join(dir, 'repo');
  mkdirSync(repoPath, { mode: 0o700 });
  const cipherPass = randomBytes(18).toString('hex');
  // Unique per cluster: pgBackRest's locks are per stanza name on the host, and test files run side by side.
  const stanza = `main-${randomBytes(3).toString('hex')}`;
  const conf = join(dir, 'archive.conf');
  if (user) for (const p of [dir, repoPath]) chownSync(p, user.uid, user.gid);
  let pg: PostgresServer | undefined;
  try {
    // The server's own config for archive-push; pg1-path is filled once the cluster exists.
    pg = await startPostgres({
      log: options.log,
      trustLocal: true,
      env: { PGBACKREST_REPO1_CIPHER_PASS: cipherPass },
      settings: {
        archive_mode: 'on',
        archive_command: `${BINARY} --config=${conf} --stanza=${stanza} archive-push %p`,
        archive_timeout: options.archiveTimeout ?? '10s',
        wal_level: 'replica',
      },
    });
    const lines = [
      '[global]',
      `repo1-path=${repoPath}`,
      'repo1-cipher-type=aes-256-cbc',
      'log-level-console=off',
      'log-level-stderr=warn',
      'log-level-file=off',
    ];
    writeFileSync(conf, [...lines, '', `[${stanza}]`, `pg1-path=${pg.dataDir}`, ''].join('\n'), { mode: 0o600 });
    if (user) chownSync(conf, user.uid, user.gid);
  } catch (error) {
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const server = pg;
  return {
    pg: server,
    stanza,
    repoPath,
    cipherPass,
    backupWith: (secretName) => ({
      stanza,
      repository: { path: repoPath, cipher_pass: { $secret: secretName } },
      cluster: { data_dir: server.dataDir, port: server.port, socket_dir: server.socketDir, user: 'rebound' },
    }),
    async destroy() {
      await server.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
