// Signing plans before they start: the Ed25519 key from REBOUND_SIGNING_KEY signs a plan and each child plan in it, so workers run only what a trusted starter compiled.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { starterStatement, type StarterStatement } from '../contract/approvals.ts';
import { canonicalJson, planStatement, type PlanSignatures } from '../contract/canonical.ts';
import type { Plan } from '../contract/plan.ts';

export const SIGNING_KEY_ENV = 'REBOUND_SIGNING_KEY';

/** A key's fingerprint: the first 16 hex digits of sha256 over its public half (SPKI DER). */
export function keyFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function secretsDigest(secrets: Plan['secrets']): string {
  return createHash('sha256').update(canonicalJson(secrets)).digest('hex');
}

let cached: { path: string; key: KeyObject } | undefined;

/** The signing key named by REBOUND_SIGNING_KEY; an error that says how to make one if none. */
export function signingKey(env: NodeJS.ProcessEnv = process.env): KeyObject {
  const path = env[SIGNING_KEY_ENV];
  if (!path) {
    throw new Error(`no plan signing key: set ${SIGNING_KEY_ENV} to the private key file workers trust (make a pair with: rebound keys generate --out DIR)`);
  }
  if (cached?.path === path) return cached.key;
  let key: KeyObject;
  try {
    // A key others can read signs for anyone who reads it.
    if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} is readable by others; chmod 600 it`);
    key = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new Error(`${SIGNING_KEY_ENV}: cannot use ${path}: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${SIGNING_KEY_ENV}: ${path} is not an Ed25519 private key`);
  cached = { path, key };
  return key;
}

/** Signs a plan and, recursively, every child plan it carries (each child run checks its own). */
export function signPlan(plan: Plan, key: KeyObject = signingKey()): PlanSignatures {
  const out: PlanSignatures = {};
  const fingerprint = keyFingerprint(key);
  const walk = (p: Plan) => {
    const statement = planStatement(p.hash, secretsDigest(p.secrets));
    out[p.hash] = { key: fingerprint, sig: sign(null, Buffer.from(statement), key).toString('base64') };
    for (const child of Object.values(p.children ?? {})) walk(child);
  };
  walk(plan);
  return out;
}

/** Writes a new key pair: `<purpose>-<id>.key` (0600, for starters or the approval service) and `.pub` (for workers). */
export function generateKeyPair(dir: string, purpose: 'signing' | 'approval' = 'signing'): { privatePath: string; publicPath: string; fingerprint: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const fingerprint = keyFingerprint(publicKey);
  const privatePath = join(dir, `${purpose}-${fingerprint}.key`);
  const publicPath = join(dir, `${purpose}-${fingerprint}.pub`);
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  return { privatePath, publicPath, fingerprint };
}

/** The name a run is started under: REBOUND_IDENTITY, else the login name. What self-approval is checked against. */
export function starterIdentity(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REBOUND_IDENTITY) return env.REBOUND_IDENTITY;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Signs who starts which workflow (or, for a schedule, which id prefix) with the plan key. */
export function signStarter(s: Omit<StarterStatement, 'key' | 'sig'>, key: KeyObject = signingKey()): StarterStatement {
  return { ...s, key: keyFingerprint(key), sig: sign(null, Buffer.from(starterStatement(s)), key).toString('base64') };
}
