// Secrets on the worker: resolve a step's secret references from env or files, and mask their values (and URL passwords) in text.
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { FailureCode } from '../../contract/failures.ts';
import type { PlanSecret } from '../../contract/plan.ts';
import type { SecretInterpolation, SecretRef } from '../../contract/expression.ts';

/** A secret reference that cannot be resolved on this worker. Not retryable: config is wrong. */
export class SecretUnavailableError extends Error {
  readonly code: FailureCode = 'secret_unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

async function readSecret(name: string, ref: PlanSecret | undefined): Promise<string> {
  if (!ref) throw new SecretUnavailableError(`secret "${name}" is not declared in the runbook's spec.secrets`);
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new SecretUnavailableError(`secret "${name}": environment variable ${ref.env} is not set on this worker`);
    }
    return value;
  }
  return readFileSecret(name, ref.file);
}

/** The folder `file:` secrets must live in on this worker; without it, file secrets are off. */
export const SECRETS_DIR_ENV = 'REBOUND_SECRETS_DIR';

/**
 * Reads a `file:` secret, confined to REBOUND_SECRETS_DIR (after resolving links): a runbook
 * names which secret it needs, the worker's operator decides which files may be secrets.
 */
async function readFileSecret(name: string, file: string): Promise<string> {
  const dir = process.env[SECRETS_DIR_ENV];
  if (!dir) throw new SecretUnavailableError(`secret "${name}": file secrets are off on this worker; set ${SECRETS_DIR_ENV} to the folder that holds them`);
  let path: string;
  try {
    const root = await realpath(dir);
    path = await realpath(isAbsolute(file) ? file : join(root, file));
    if (!path.startsWith(root + sep)) throw Object.assign(new Error('outside'), { code: 'outside' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'outside' ? `is outside ${SECRETS_DIR_ENV}` : `cannot be read (${code})`;
    throw new SecretUnavailableError(`secret "${name}": ${file} ${why} on this worker`);
  }
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new SecretUnavailableError(`secret "${name}": cannot read ${file} on this worker (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function urlPassword(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    return undefined;
  }
}

function urlForms(value: string): string[] {
  try {
    const url = new URL(value);
    if (!url.host) return [];
    const bare = new URL(url);
    bare.username = '';
    bare.password = '';
    bare.search = '';
    bare.hash = '';
    return [url.toString(), bare.toString()].filter((f) => f.length >= 8);
  } catch {
    return [];
  }
}

const isRef = (v: unknown): v is SecretRef => !!v && typeof v === 'object' && typeof (v as SecretRef).$secret === 'string' && Object.keys(v).length === 1;
const isInterpolation = (v: unknown): v is SecretInterpolation => !!v && typeof v === 'object' && Array.isArray((v as SecretInterpolation).$interpolate);

/**
 * Replaces the secret references at `paths` (where the plan's template put them) with their
 * values, read on the worker; anything shaped like a reference elsewhere is data and stays.
 * Returns the values it read, so the caller can mask them in anything it reports.
 */
export async function resolveSecrets(
  value: unknown,
  refs: Record<string, PlanSecret>,
  seen: Set<string> = new Set(),
  paths: Array<Array<string | number>> = [],
): Promise<{ value: unknown; secrets: Set<string> }> {
  const at = new Set(paths.map((p) => JSON.stringify(p.map(String))));
  const resolve = async (v: unknown): Promise<unknown> => {
    if (isRef(v)) {
      const secret = await readSecret(v.$secret, refs[v.$secret]);
      seen.add(secret);
      // A tool may print the password of a connection URL on its own; mask that too.
      const password = urlPassword(secret);
      if (password) seen.add(password);
      // Tools and messages print URLs normalised or without credentials and query.
      for (const form of urlForms(secret)) seen.add(form);
      return secret;
    }
    if (isInterpolation(v)) return (await Promise.all(v.$interpolate.map(resolve))).join('');
    return v;
  };
  const walk = async (v: unknown, path: string[]): Promise<unknown> => {
    if (at.has(JSON.stringify(path))) return resolve(v);
    if (Array.isArray(v)) return Promise.all(v.map((inner, i) => walk(inner, [...path, String(i)])));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = await walk(inner, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: await walk(value, []), secrets: seen };
}

/** The forms a secret takes in text: as is, URL-encoded, JSON-escaped, base64 (both alphabets). */
function forms(secret: string): string[] {
  const base64 = Buffer.from(secret).toString('base64');
  const all = [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ];
  return all.filter((f) => f.length > 0);
}

/**
 * Masks every secret value (and URL-embedded passwords) in text that leaves the worker,
 * whatever its length and in each form it may be written; longest first, so a short secret
 * inside a longer one does not leave the rest of the longer one behind.
 */
export function mask(text: string, secrets: Iterable<string>): string {
  const all = [...new Set([...secrets].flatMap(forms))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of all) out = out.split(form).join('***');
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@');
}
