// Plan signing keys for a local stack (demo, tests, benches): one pair per data folder, set as the signer's and the worker's keys unless the environment names its own.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, SIGNING_KEY_ENV } from '../client/signing.ts';
import { TRUSTED_KEYS_ENV } from '../activities/runtime/trust.ts';

/** Uses (or makes) the key pair in `dir/keys` for this process and the processes it starts. */
export function useLocalKeys(dir: string): { privatePath: string; publicPath: string } {
  if (process.env[SIGNING_KEY_ENV] && process.env[TRUSTED_KEYS_ENV]) {
    return { privatePath: process.env[SIGNING_KEY_ENV]!, publicPath: process.env[TRUSTED_KEYS_ENV]! };
  }
  const folder = join(dir, 'keys');
  const existing = existsSync(folder) ? readdirSync(folder).find((f) => f.endsWith('.key')) : undefined;
  const pair = existing ? { privatePath: join(folder, existing), publicPath: join(folder, existing.replace(/\.key$/, '.pub')) } : generateKeyPair(folder);
  process.env[SIGNING_KEY_ENV] = pair.privatePath;
  process.env[TRUSTED_KEYS_ENV] = pair.publicPath;
  return pair;
}
