// Secrets on the worker: resolve a step's secret references from env or files, and mask their values (and URL passwords) in text.
import { readFile } from 'node:fs/promises';
import type { PlanSecret } from '../../contract/plan.ts';
import type { SecretInterpolation, SecretRef } from '../../contract/expression.ts';

/** A secret reference that cannot be resolved on this worker. Not retryable: config is wrong. */
export class SecretUnavailableError extends Error {
  readonly code = 'secret_unavailable';
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
  try {
    return (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new SecretUnavailableError(`secret "${name}": cannot read ${ref.file} on this worker (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
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
 * Replaces secret references in an action's input with their values, read on the worker.
 * Returns the values it read, so the caller can mask them in anything it reports.
 */
export async function resolveSecrets(
  value: unknown,
  refs: Record<string, PlanSecret>,
  seen: Set<string> = new Set(),
): Promise<{ value: unknown; secrets: Set<string> }> {
  const walk = async (v: unknown): Promise<unknown> => {
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
    if (isInterpolation(v)) return (await Promise.all(v.$interpolate.map(walk))).join('');
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = await walk(inner);
      return out;
    }
    return v;
  };
  return { value: await walk(value), secrets: seen };
}

/** Masks every secret value (and URL-embedded passwords) in text that leaves the worker. */
export function mask(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && encoded.length >= 3) out = out.split(encoded).join('***');
  }
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@');
}
