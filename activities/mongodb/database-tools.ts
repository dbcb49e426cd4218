// The MongoDB Database Tools as Rebound runs them: which tool a step uses, their arguments and config file, how their output and failures read.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ActionError } from '../runtime/errors.ts';
import { BSON_SUFFIX, fileBase, METADATA_SUFFIX, type Namespace } from './namespaces.ts';

export type ToolChoice = 'auto' | 'driver' | 'mongodump';
export type Binary = 'mongodump' | 'mongorestore';

/** What a step runs: the Node driver, or a Database Tools binary by absolute path. */
export type ResolvedTool = { tool: 'driver'; why: string } | { tool: 'mongodump'; command: string };

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first `name` along a PATH string, as a shell finds it, except that empty and
 * relative entries are skipped: they mean the worker's working directory, and a file
 * dropped there must not be run with the database's password.
 */
export function findOnPath(name: string, path: string | undefined, executable: (file: string) => boolean = isExecutableFile): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, name);
    if (executable(file)) return file;
  }
  return undefined;
}

const shortPath = (path: string | undefined) => {
  const text = path || '(PATH is empty)';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/**
 * `tool:` resolved on the worker. `auto` takes the binary when PATH has it, except for
 * `consistency: snapshot`, which only the driver can do; `mongodump` without the binary
 * fails without retry, since another attempt on the same worker finds the same PATH.
 */
export function chooseTool(options: {
  choice: ToolChoice;
  binary: Binary;
  path: string | undefined;
  snapshot?: boolean;
  executable?: (file: string) => boolean;
}): ResolvedTool {
  const { choice, binary } = options;
  if (choice === 'driver') return { tool: 'driver', why: 'tool: driver' };
  if (options.snapshot) {
    if (choice === 'auto') return { tool: 'driver', why: 'consistency: snapshot needs the driver' };
    throw new ActionError(
      'unsupported',
      'consistency: snapshot cannot be done with tool: mongodump: mongodump reads a point in time only with --oplog, of a whole replica set, ' +
        'into an oplog.bson that mongorestore must replay, which a restore point here does not hold. Use tool: driver (or auto), which reads every collection at one cluster time',
      { retryable: false },
    );
  }
  const command = findOnPath(binary, options.path, options.executable);
  if (command) return { tool: 'mongodump', command };
  if (choice === 'auto') return { tool: 'driver', why: `no ${binary} on PATH` };
  throw new ActionError(
    'unsupported',
    `tool: mongodump needs the MongoDB Database Tools' ${binary} on the worker, and no executable ${binary} is on its PATH (${shortPath(options.path)}). ` +
      `Install the Database Tools (100.x) on the worker, or use tool: driver`,
    { retryable: false },
  );
}

/** The first line of `<tool> --version` ("mongodump version: 100.9.4"), for the manifest. */
export function versionLine(output: string): string {
  return (
    output
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'unknown'
  );
}

const URI = /^(mongodb(?:\+srv)?:\/\/([^/?]*@)?[^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/s;

/**
 * The connection string the tools get. A database in its path would become their `--db`
 * (mongo-tools copies it there), narrowing a dump to that one database; for the driver it
 * only says where the user is defined, so it moves to `authSource` unless one is given.
 */
export function toolUri(url: string): string {
  const match = URI.exec(url);
  if (!match) throw new ActionError('invalid_input', 'the connection string is not a mongodb:// or mongodb+srv:// URL', { retryable: false });
  const [, base, credentials, database, query] = match;
  const params = (query ?? '').split('&').filter(Boolean);
  if (database && credentials && !params.some((p) => /^authSource=/i.test(p))) params.push(`authSource=${database}`);
  return `${base}/${params.length ? `?${params.join('&')}` : ''}`;
}

/**
 * The `--config` file: the connection string, password included, where only the worker's
 * user can read it, never in an argument that `ps` shows. JSON's quoting is valid YAML for
 * printable ASCII, which is all a connection string may hold (the rest is %-encoded).
 */
export function configYaml(url: string): string {
  if (!/^[\x20-\x7e]*$/.test(url))
    throw new ActionError(
      'invalid_input',
      'the connection string holds characters that must be %-encoded (spaces are fine, control and non-ASCII characters are not)',
      {
        retryable: false,
      },
    );
  return `uri: ${JSON.stringify(toolUri(url))}\n`;
}

/** The collections of one database a dump takes, and the others it has (left out by name). */
export interface DatabaseSelection {
  db: string;
  selected: string[];
  others: string[];
}

/**
 * One mongodump run per database that has selected collections. mongodump has no
 * namespace patterns (--nsInclude is mongorestore's), so Rebound's own selection is
 * passed as `--db` and an `--excludeCollection` for every other collection. Values go
 * after `=`, so a name that starts with `-` is not read as an option.
 */
export function dumpRuns(databases: DatabaseSelection[], options: { config: string; out: string; parallel: number }): string[][] {
  return databases
    .filter((d) => d.selected.length)
    .map((d) => [
      `--config=${options.config}`,
      '--gzip',
      `--out=${options.out}`,
      `--db=${d.db}`,
      `--numParallelCollections=${options.parallel}`,
      ...d.others.map((c) => `--excludeCollection=${c}`),
    ]);
}

/**
 * The files of a mongodump output folder (`<db>/<file>`) that make up the point: both
 * files of each selected collection, as the driver path names them (a time-series
 * collection's data is mongodump's `system.buckets.<name>.bson.gz`). Everything else —
 * prelude.json.gz, a collection created after the listing — stays out.
 */
export function pointFiles(found: string[], selected: Namespace[]): string[] {
  const wanted = new Set(
    selected.flatMap(({ db, collection }) => [
      fileBase(db, collection) + METADATA_SUFFIX,
      fileBase(db, collection) + BSON_SUFFIX,
      fileBase(db, `system.buckets.${collection}`) + BSON_SUFFIX,
    ]),
  );
  return found.filter((f) => wanted.has(f)).sort();
}

/** mongorestore's arguments: Rebound's include patterns and rename map have mongorestore's own `*` syntax. */
export function restoreArgs(options: {
  config: string;
  dir: string;
  drop: boolean;
  include: string[];
  namespace?: { from: string; to: string };
  parallel: number;
}): string[] {
  return [
    `--config=${options.config}`,
    '--gzip',
    `--dir=${options.dir}`,
    `--numParallelCollections=${options.parallel}`,
    ...(options.drop ? ['--drop'] : []),
    ...options.include.map((p) => `--nsInclude=${p}`),
    ...(options.namespace ? [`--nsFrom=${options.namespace.from}`, `--nsTo=${options.namespace.to}`] : []),
  ];
}

/** mongorestore's closing line: documents it inserted, and those it could not (duplicate keys, mostly). */
export function restoreSummary(stderr: string): { restored: number; failed: number } | undefined {
  const last = [...stderr.matchAll(/(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore\./g)].at(-1);
  return last ? { restored: Number(last[1]), failed: Number(last[2]) } : undefined;
}

const AUTH_FAILURE = /AuthenticationFailed|authentication failed|unable to authenticate|auth error|not authorized|\bUnauthorized\b/i;
/** Mistakes in what was asked, which the same arguments repeat on every attempt. */
const USAGE_ERROR =
  /error parsing (command line )?options|error parsing (config|uri|metadata)|unknown (option|flag)|illegal argument combination|invalid (option|namespace|--nsFrom|--nsTo)|is not allowed when|cannot specify|don't know what to do with/i;

export function isAuthFailure(stderr: string): boolean {
  return AUTH_FAILURE.test(stderr);
}

/** A tool that failed on connection trouble may succeed later; one refused a login or its arguments will not. */
export function retryableToolFailure(stderr: string): boolean {
  return !AUTH_FAILURE.test(stderr) && !USAGE_ERROR.test(stderr);
}

/**
 * Where an object of a point is written in a local dump folder. A name that is not
 * `<db>/<file>` (`..`, an absolute path, more folders) would write outside the folder:
 * the manifest is corrupt, not a path to follow.
 */
export function localFile(dir: string, name: string): string {
  const parts = name.split('/');
  if (parts.length !== 2 || parts.some((p) => !p || p === '.' || p === '..' || p.includes('\\') || p.includes('\0')))
    throw new ActionError('verification_failed', `the object name ${JSON.stringify(name)} is not <database>/<file>: not a mongodump layout`, {
      retryable: false,
    });
  return join(dir, parts[0]!, parts[1]!);
}
