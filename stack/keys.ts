// Signing keys for a local stack (demo, tests, benches): one plan pair and one approval pair per data folder, set as the signers' and the worker's keys unless the environment names its own.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVAL_KEY_ENV } from '../client/approvals.ts';
import { generateKeyPair, SIGNING_KEY_ENV } from '../client/signing.ts';
import { TRUSTED_KEYS_ENV } from '../activities/runtime/trust.ts';
import { APPROVAL_KEYS_ENV } from '../activities/runtime/votes.ts';

/** The pair of this purpose in `folder`, made if there is none. */
function pairIn(folder: string, purpose: 'signing' | 'approval'): { privatePath: string; publicPath: string } {
  const existing = existsSync(folder) ? readdirSync(folder).find((f) => f.startsWith(`${purpose}-`) && f.endsWith('.key')) : undefined;
  return existing ? { privatePath: join(folder, existing), publicPath: join(folder, existing.replace(/\.key$/, '.pub')) } : generateKeyPair(folder, purpose);
}

/** Sets a signer's and a verifier's variable to a local pair, unless both are set already. */
function use(folder: string, purpose: 'signing' | 'approval', signer: string, verifier: string): { privatePath: string; publicPath: string } {
  if (process.env[signer] && process.env[verifier]) return { privatePath: process.env[signer]!, publicPath: process.env[verifier]! };
  const pair = pairIn(folder, purpose);
  process.env[signer] = pair.privatePath;
  process.env[verifier] = pair.publicPath;
  return pair;
}

/** Uses (or makes) the key pairs in `dir/keys` for this process and the processes it starts; returns the plan pair. */
export function useLocalKeys(dir: string): { privatePath: string; publicPath: string } {
  const folder = join(dir, 'keys');
  use(folder, 'approval', APPROVAL_KEY_ENV, APPROVAL_KEYS_ENV);
  return use(folder, 'signing', SIGNING_KEY_ENV, TRUSTED_KEYS_ENV);
}
