// A PostgreSQL cluster on the worker's own host, for postgres.reprotect: its server binaries, pg_controldata, pg_ctl status/stop/start and pg_rewind, run as the data directory's owner with a clean environment.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAsUser } from '../runtime/run-as.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';

export interface LocalCluster {
  dataDir: string;
  bin: string;
  major: string;
  /** The OS user its tools run as (a root worker's), or undefined: the worker's own. */
  user?: { uid: number; gid: number; name: string };
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Server binaries of the cluster's major version: $REBOUND_PG_BIN, or Debian's /usr/lib/postgresql/<major>/bin. */
function binDir(major: string): string {
  for (const dir of [process.env.REBOUND_PG_BIN, `/usr/lib/postgresql/${major}/bin`]) {
    if (dir && ['pg_ctl', 'pg_rewind', 'pg_controldata', 'postgres'].every((t) => existsSync(join(dir, t)))) return dir;
  }
  throw new ActionError('unsupported', `reprotect needs PostgreSQL ${major}'s server binaries (pg_ctl, pg_rewind, pg_controldata) on this worker`, {
    retryable: false,
  });
}

export function localCluster(dataDir: string, runAs: string | undefined): LocalCluster {
  const versionFile = join(dataDir, 'PG_VERSION');
  if (!existsSync(versionFile))
    throw new ActionError('not_found', `${dataDir} holds no PostgreSQL cluster (no PG_VERSION) on this worker`, { retryable: false });
  const major = readFileSync(versionFile, 'utf8').trim();
  const user = runAsUser(runAs, dataDir);
  return { dataDir, bin: binDir(major), major, ...(user ? { user } : {}) };
}

/**
 * The tools' environment: the locale and PATH, nothing else of the worker's — a postmaster pg_ctl
 * starts lives on with it, and the worker's environment holds secrets.
 */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = Object.entries(process.env).filter(([k]) => k === 'PATH' || k === 'LANG' || k.startsWith('LC_') || k === 'TZ');
  return { ...Object.fromEntries(keep), ...extra };
}

/** Runs one of the cluster's tools (argv only, no shell) as its owner; killed when the step is cancelled. */
export function exec(c: LocalCluster, tool: string, args: string[], ctx: Pick<ActionContext, 'signal'>, env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(c.bin, tool), args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', uid: c.user?.uid, gid: c.user?.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const kill = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', kill, { once: true });
    child.once('error', (error) => reject(new ActionError('unsupported', `${tool}: ${error.message}`, { retryable: false })));
    child.once('close', (code) => {
      ctx.signal.removeEventListener('abort', kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last lines of a tool's output, for an error message. */
export const tail = (r: ExecResult): string => (r.stderr || r.stdout).trim().split('\n').slice(-6).join(' | ') || '(no output)';

/** pg_controldata's fields ("Database cluster state", "wal_log_hints setting", …). */
export async function controlData(c: LocalCluster, ctx: Pick<ActionContext, 'signal'>): Promise<Record<string, string>> {
  const r = await exec(c, 'pg_controldata', ['-D', c.dataDir], ctx);
  if (r.code !== 0) throw new ActionError('backend_error', `pg_controldata ${c.dataDir} exited ${r.code}: ${tail(r)}`, { retryable: true });
  return Object.fromEntries(
    r.stdout.split('\n').flatMap((line) => (line.includes(':') ? [[line.split(':')[0]!.trim(), line.slice(line.indexOf(':') + 1).trim()]] : [])),
  );
}

/** Whether a postmaster runs on the data directory (pg_ctl status: 0 running, 3 not). */
export async function running(c: LocalCluster, ctx: Pick<ActionContext, 'signal'>): Promise<boolean> {
  const r = await exec(c, 'pg_ctl', ['status', '-D', c.dataDir], ctx);
  if (r.code === 0 || r.code === 3) return r.code === 0;
  throw new ActionError('backend_error', `pg_ctl status -D ${c.dataDir} exited ${r.code}: ${tail(r)}`, { retryable: true });
}

/** Fast shutdown, waited on. */
export async function stop(c: LocalCluster, ctx: Pick<ActionContext, 'signal'>): Promise<void> {
  const r = await exec(c, 'pg_ctl', ['stop', '-D', c.dataDir, '-m', 'fast', '-w', '-t', '300'], ctx);
  if (r.code !== 0) throw new ActionError('backend_error', `pg_ctl stop -D ${c.dataDir} exited ${r.code}: ${tail(r)}`, { retryable: true });
}

/** A word for pg_ctl's -o, which it hands to a shell: single-quoted. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** Starts the postmaster with the given options (-p, -k, -c name=value), its output in `log`; waits until it accepts connections or is a hot standby. */
export async function start(
  c: LocalCluster,
  options: { port?: number; socket_dir?: string; settings: Record<string, string> },
  log: string,
  ctx: Pick<ActionContext, 'signal'>,
): Promise<void> {
  const words = [
    ...(options.port ? ['-p', String(options.port)] : []),
    ...(options.socket_dir ? ['-k', options.socket_dir] : []),
    ...Object.entries(options.settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const args = ['start', '-D', c.dataDir, '-l', log, '-w', '-t', '300', ...(words.length ? ['-o', words.map(quote).join(' ')] : [])];
  const r = await exec(c, 'pg_ctl', args, ctx);
  if (r.code !== 0) {
    const logged = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-6).join(' | ') : '';
    throw new ActionError('backend_error', `pg_ctl start -D ${c.dataDir} exited ${r.code}: ${tail(r)}${logged ? ` | log: ${logged}` : ''}`, {
      retryable: true,
    });
  }
}
