// pgBackRest for tests: Debian's pgbackrest 2.45, and a PostgreSQL cluster archiving its WAL into a private encrypted repository, as a DBA would set one up.
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The cluster's own pgBackRest config (0600, the postgres user's): what a DBA's bare `pgbackrest restore` uses. */
  configFile: string;
  /** A folder the postgres user owns beside it, removed with the cluster. */
  dir: string;
  /** `with:` of pgbackrest.backup for this cluster, the passphrase as a reference to the secret `secretName` (S3 keys: to `s3key`, `s3secret`). */
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

/** An S3 repository: a bucket on a TLS endpoint `localhost:port` whose certificate `caFile` holds. */
export interface S3Repository {
  endpoint: string;
  bucket: string;
  caFile: string;
  accessKey: string;
  secretKey: string;
}

/** The repository's settings, as the cluster's own pgBackRest config and as pgbackrest.backup's `repository:`. */
function repositorySettings(repoPath: string, s3: S3Repository | undefined) {
  const conf = s3
    ? ['repo1-type=s3', `repo1-path=${repoPath}`, `repo1-s3-bucket=${s3.bucket}`, `repo1-s3-endpoint=${s3.endpoint}`, 'repo1-s3-region=us-east-1']
    : [`repo1-path=${repoPath}`];
  if (s3) conf.push('repo1-s3-uri-style=path', `repo1-storage-ca-file=${s3.caFile}`);
  const repository = s3
    ? {
        type: 's3',
        path: repoPath,
        s3_bucket: s3.bucket,
        s3_endpoint: s3.endpoint,
        s3_uri_style: 'path',
        s3_ca_file: s3.caFile,
        s3_key: { $secret: 's3key' },
        s3_key_secret: { $secret: 's3secret' },
      }
    : { path: repoPath };
  const env = s3 ? { PGBACKREST_REPO1_S3_KEY: s3.accessKey, PGBACKREST_REPO1_S3_KEY_SECRET: s3.secretKey } : {};
  return { conf, repository, env };
}

/**
 * A cluster whose archive_command pushes every WAL segment (at least each `archiveTimeout`)
 * into an aes-256-cbc repository with pgBackRest; the stanza is not created: pgbackrest.backup
 * creates and checks it on its first run.
 */
export async function startArchivingCluster(
  options: { archiveTimeout?: string; s3?: S3Repository; log?: (line: string) => void } = {},
): Promise<ArchivingCluster> {
  ensurePgBackRest(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-pgbackrest-repo-'));
  const user = postgresUser();
  // S3: the prefix in the bucket; posix: a folder beside the cluster.
  const repoPath = options.s3 ? `/${randomBytes(3).toString('hex')}` : join(dir, 'repo');
  if (!options.s3) mkdirSync(repoPath, { mode: 0o700 });
  // The CA where the postgres user can read it (as a DBA would put it in /etc/pgbackrest): .data is private to root.
  const s3 = options.s3 && { ...options.s3, caFile: join(dir, 'ca.crt') };
  if (s3) copyFileSync(options.s3!.caFile, s3.caFile);
  const repo = repositorySettings(repoPath, s3);
  const cipherPass = randomBytes(18).toString('hex');
  // Unique per cluster: pgBackRest's locks are per stanza name on the host, and test files run side by side.
  const stanza = `main-${randomBytes(3).toString('hex')}`;
  const conf = join(dir, 'archive.conf');
  if (user) for (const p of options.s3 ? [dir] : [dir, repoPath]) chownSync(p, user.uid, user.gid);
  let pg: PostgresServer | undefined;
  try {
    // The server's own config for archive-push; pg1-path is filled once the cluster exists.
    pg = await startPostgres({
      log: options.log,
      trustLocal: true,
      env: { PGBACKREST_REPO1_CIPHER_PASS: cipherPass, ...repo.env },
      settings: {
        archive_mode: 'on',
        archive_command: `${BINARY} --config=${conf} --stanza=${stanza} archive-push %p`,
        archive_timeout: options.archiveTimeout ?? '10s',
        wal_level: 'replica',
      },
    });
    const lines = ['[global]', ...repo.conf, 'repo1-cipher-type=aes-256-cbc', 'log-level-console=off', 'log-level-stderr=warn', 'log-level-file=off'];
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
    configFile: conf,
    dir,
    backupWith: (secretName) => ({
      stanza,
      repository: { ...repo.repository, cipher_pass: { $secret: secretName } },
      cluster: { data_dir: server.dataDir, port: server.port, socket_dir: server.socketDir, user: 'rebound' },
    }),
    async destroy() {
      await server.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
