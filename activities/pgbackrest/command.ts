// Running pgBackRest for the pgbackrest actions: a private 0600 config of the repository's plain settings, its secrets only in the environment, as the data directory's owner, errors mapped to the failure catalog.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '../runtime/errors.ts';
import type { OsUser } from '../runtime/run-as.ts';
import { FOLDER_PREFIX, markOwner } from './orphans.ts';
import { runTool, ToolFailure } from '../runtime/tool.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import type { Repository } from '../../contract/actions/pgbackrest.ts';

/** A repository as a point records it: every setting but the credentials. */
export type RepositoryRecord = Omit<Repository, 'cipher_pass' | 's3_key' | 's3_key_secret'> & { encrypted: boolean };
export type Credentials = { cipher_pass?: string; s3_key?: string; s3_key_secret?: string };

export function recordOf(repository: Repository): RepositoryRecord {
  const { cipher_pass, s3_key: _key, s3_key_secret: _secret, ...plain } = repository;
  return { ...plain, encrypted: !!cipher_pass };
}

/** Where a repository is, for messages: "posix /var/lib/pgbackrest" or "s3 bucket/prefix at endpoint". */
export function describeRepository(repo: RepositoryRecord): string {
  return repo.type === 's3' ? `s3 ${repo.s3_bucket}${repo.path} at ${repo.s3_endpoint}` : `posix ${repo.path}`;
}

export interface Cluster {
  data_dir: string;
  port: number;
  socket_dir: string;
  user: string;
}

export interface Stanza {
  stanza: string;
  repository: RepositoryRecord;
  credentials: Credentials;
  cluster?: Cluster;
  /** The OS user pgBackRest runs as (resolved by runAsUser). */
  user?: OsUser;
}

/**
 * A config value as it may be written: one line. A line break would start an option of its own
 * (`cmd-ssh=`, `repo1-host-cmd=`: programs pgBackRest runs), so a parameter could not smuggle one in.
 */
function plain(key: string, value: string): string {
  if (/[\r\n\0]/.test(value))
    throw new ActionError('invalid_input', `pgBackRest setting ${key} holds a line break or NUL: ${JSON.stringify(value)}`, { retryable: false });
  return value;
}

function configText(s: Stanza, extra: Record<string, string>): string {
  const r = s.repository;
  const global: Record<string, string | undefined> = {
    'repo1-type': r.type,
    'repo1-path': r.path,
    'repo1-cipher-type': r.encrypted ? 'aes-256-cbc' : undefined,
    'repo1-s3-bucket': r.s3_bucket,
    'repo1-s3-endpoint': r.s3_endpoint,
    'repo1-s3-region': r.type === 's3' ? r.s3_region : undefined,
    'repo1-s3-uri-style': r.type === 's3' ? r.s3_uri_style : undefined,
    'repo1-storage-ca-file': r.s3_ca_file,
    'log-level-console': 'off',
    'log-level-stderr': 'warn',
    'log-level-file': 'off',
    'start-fast': 'y',
  };
  const stanza: Record<string, string | undefined> = s.cluster
    ? { 'pg1-path': s.cluster.data_dir, 'pg1-port': String(s.cluster.port), 'pg1-socket-path': s.cluster.socket_dir, 'pg1-user': s.cluster.user }
    : {};
  const lines = (o: Record<string, string | undefined>) =>
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${plain(k, v!)}`);
  return [`[global]`, ...lines(global), '', `[${s.stanza}]`, ...lines({ ...stanza, ...extra }), ''].join('\n');
}

/** A private folder (0700, owned by the user pgBackRest runs as) holding its config; `remove()` deletes both. */
export function privateConfig(s: Stanza, extra: Record<string, string> = {}): { dir: string; file: string; remove: () => void } {
  const text = configText(s, extra); // refused before anything is made
  const dir = mkdtempSync(join(tmpdir(), FOLDER_PREFIX));
  markOwner(dir);
  const file = join(dir, 'pgbackrest.conf');
  writeFileSync(file, text, { mode: 0o600 });
  if (s.user) {
    chownSync(dir, s.user.uid, s.user.gid);
    chownSync(file, s.user.uid, s.user.gid);
  }
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The repository's secrets as pgBackRest reads them from its environment: never in argv, never in a file. */
export function secretEnv(c: Credentials): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (c.cipher_pass) env.PGBACKREST_REPO1_CIPHER_PASS = c.cipher_pass;
  if (c.s3_key) env.PGBACKREST_REPO1_S3_KEY = c.s3_key;
  if (c.s3_key_secret) env.PGBACKREST_REPO1_S3_KEY_SECRET = c.s3_key_secret;
  return env;
}

/** pgBackRest's error text as a catalog code and retry verdict; every message names the stanza and repository. */
export function mapFailure(s: Stanza, command: string, message: string): ActionError {
  const where = `pgBackRest ${command} of stanza ${s.stanza} (repository ${describeRepository(s.repository)})`;
  const fail = (code: ConstructorParameters<typeof ActionError>[0], hint: string, retryable: boolean) =>
    new ActionError(code, `${where}: ${hint}: ${message}`, { retryable });
  if (/unable to load info file/i.test(message) && /FormatError|CryptoError|unable to decrypt|key\/value found outside/i.test(message))
    return fail('auth_failed', s.repository.encrypted ? "the repository's cipher passphrase is wrong" : 'the repository is encrypted: give cipher_pass', false);
  if (/HTTP 403|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied/i.test(message)) return fail('auth_failed', 'S3 refused the credentials', false);
  if (/missing stanza path|has a stanza-create been performed|does not exist.*stanza/i.test(message))
    return fail('not_found', 'no such stanza in the repository', false);
  if (/unable to acquire lock|LockAcquireError/i.test(message)) return fail('conflict', 'another pgBackRest command holds the stanza lock', true);
  if (/unable to find backup set|backup set .* is not valid/i.test(message)) return fail('not_found', 'no such backup set', false);
  if (/unable to connect|could not connect|connection refused|unable to find primary cluster|HostConnectError/i.test(message))
    return fail('unreachable', 'cannot reach the cluster or the repository', true);
  if (/unable to restore while PostgreSQL is running|postmaster\.pid/i.test(message))
    return fail('conflict', 'the target cluster is running: stop it first', false);
  return fail('backend_error', 'failed', true);
}

/** Runs one pgBackRest command with the private config and the secrets in its environment; resolves its stdout. */
export async function pgbackrest(
  s: Stanza,
  command: string,
  args: string[],
  ctx: Pick<ActionContext, 'signal' | 'mask'>,
  options: { config?: { file: string }; positional?: string[] } = {},
): Promise<string> {
  const own = options.config ? undefined : privateConfig(s);
  const file = options.config?.file ?? own!.file;
  try {
    const tool = runTool({
      command: 'pgbackrest',
      args: [`--config=${file}`, `--stanza=${s.stanza}`, ...args, command, ...(options.positional ?? [])],
      env: secretEnv(s.credentials),
      signal: ctx.signal,
      mask: ctx.mask,
      retryable: () => true,
      ...(s.user ? { uid: s.user.uid, gid: s.user.gid } : {}),
      cwd: tmpdir(),
    });
    const chunks: Buffer[] = [];
    tool.stdout.on('data', (c: Buffer) => chunks.push(c));
    try {
      await tool.done;
    } catch (error) {
      if (error instanceof ToolFailure) throw mapFailure(s, command, error.message.replace(/^pgbackrest /, ''));
      throw error;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    own?.remove();
  }
}

export function pgbackrestVersion(): string {
  const r = spawnSync('pgbackrest', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}
