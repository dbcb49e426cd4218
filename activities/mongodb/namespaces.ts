// Namespaces: which collections a dump takes (patterns, system collections), their file names, renames on restore.
import { createHash } from 'node:crypto';
import { ActionError } from '../runtime/errors.ts';

/** Databases a dump leaves out unless a pattern names them: server internals, not application data. */
const INTERNAL_DATABASES = new Set(['admin', 'local', 'config']);

function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegex).join('(.*)')}$`, 's');
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * As mongodump skips them: `system.*` collections (except system.js, which holds stored
 * functions), and names with `$` (index namespaces of very old servers). Users and roles
 * (admin.system.users/roles) are therefore not dumped.
 */
export function isSystemCollection(collection: string): boolean {
  if (collection === 'system.js') return false;
  return collection.startsWith('system.') || (collection.includes('$') && !collection.includes('.oplog.$'));
}

/**
 * Whether `db.collection` is dumped: an include pattern matches (default: all) and no
 * exclude does. admin, local and config are server internals: only a pattern that names
 * one of them literally (`admin.settings`, `config.*`) reaches into it.
 */
export function selectNamespace(database: string, collection: string, include: string[], exclude: string[]): boolean {
  if (isSystemCollection(collection)) return false;
  const ns = `${database}.${collection}`;
  const internal = INTERNAL_DATABASES.has(database);
  const candidates = internal ? include.filter((p) => p.startsWith(`${database}.`)) : include;
  const included = include.length ? candidates.some((p) => patternRegex(p).test(ns)) : !internal;
  return included && !exclude.some((p) => patternRegex(p).test(ns));
}

/** Go's url.QueryEscape, which mongodump applies to collection names in file names. */
export function queryEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `<db>/<escaped collection>`, the base of a collection's two files, as mongodump names
 * them: names whose escaped form is over 238 bytes are cut to 208 and given `%24` and a
 * base64url SHA-1 of the name, so that `.metadata.json.gz` still fits in 255 bytes.
 */
export function fileBase(database: string, collection: string): string {
  let escaped = queryEscape(collection);
  if (escaped.length > 238) {
    const hash = createHash('sha1').update(collection).digest('base64url');
    escaped = `${escaped.slice(0, 208)}%24${hash}`;
  }
  return `${database}/${escaped}`;
}

export const BSON_SUFFIX = '.bson.gz';
export const METADATA_SUFFIX = '.metadata.json.gz';

export interface Namespace {
  db: string;
  collection: string;
}

/**
 * Renames a namespace as mongorestore's --nsFrom/--nsTo do with `*`: each `*` of `to`
 * takes what the `*` at the same place in `from` matched. Names that `from` does not
 * match keep their name.
 */
export function mapNamespace(ns: Namespace, map?: { from: string; to: string }): Namespace {
  if (!map) return ns;
  const stars = (p: string) => p.split('*').length - 1;
  if (stars(map.from) !== stars(map.to))
    throw new ActionError('invalid_input', `namespace: "${map.from}" and "${map.to}" must have as many * as each other`, { retryable: false });
  const match = patternRegex(map.from).exec(`${ns.db}.${ns.collection}`);
  if (!match) return ns;
  let i = 1;
  const renamed = map.to.replace(/\*/g, () => match[i++] ?? '');
  const dot = renamed.indexOf('.');
  if (dot <= 0 || dot === renamed.length - 1)
    throw new ActionError('invalid_input', `namespace: "${ns.db}.${ns.collection}" maps to "${renamed}", not db.collection`, { retryable: false });
  return { db: renamed.slice(0, dot), collection: renamed.slice(dot + 1) };
}

/** Whether a dumped namespace is one a restore's `include` patterns ask for (all when there are none). */
export function includes(ns: Namespace, include: string[]): boolean {
  return !include.length || include.some((p) => patternRegex(p).test(`${ns.db}.${ns.collection}`));
}
