// Which plans this worker trusts: Ed25519 public keys from REBOUND_TRUSTED_KEYS, checked against a plan's signature before its run starts and against every action's input.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, planStatement, type PlanSignature, type PlanSignatures } from '../../contract/canonical.ts';
import type { FailureCode } from '../../contract/failures.ts';
import type { Plan } from '../../contract/plan.ts';

export const TRUSTED_KEYS_ENV = 'REBOUND_TRUSTED_KEYS';

/** A plan this worker will not run. Never retried: the plan, not the moment, is wrong. */
export class UntrustedPlanError extends Error {
  readonly code: FailureCode = 'untrusted';
  constructor(message: string) {
    super(message);
    this.name = 'UntrustedPlanError';
  }
}

const fingerprint = (key: KeyObject): string =>
  createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

/** The files REBOUND_TRUSTED_KEYS names: comma-separated `.pub` files or folders of them. */
function keyFiles(spec: string): string[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((path) =>
      statSync(path).isDirectory()
        ? readdirSync(path)
            .filter((f) => f.endsWith('.pub'))
            .sort()
            .map((f) => join(path, f))
        : [path],
    );
}

const cached = new Map<string, { spec: string; keys: Map<string, KeyObject> }>();

/** Ed25519 public keys by fingerprint from the files an environment variable names; throws, naming the variable, when it holds none. */
export function publicKeys(name: string, what: string, env: NodeJS.ProcessEnv = process.env): Map<string, KeyObject> {
  const spec = env[name] ?? '';
  const hit = cached.get(name);
  if (hit?.spec === spec) return hit.keys;
  if (!spec) throw new Error(`no trusted ${what} keys: set ${name} to the public key file(s) or folder (rebound keys generate)`);
  const keys = new Map<string, KeyObject>();
  for (const file of keyFiles(spec)) {
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(file));
    } catch (error) {
      throw new Error(`${name}: cannot read the public key ${file}: ${(error as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${name}: ${file} is not an Ed25519 public key`);
    keys.set(fingerprint(key), key);
  }
  if (keys.size === 0) throw new Error(`${name}=${spec} holds no .pub key`);
  cached.set(name, { spec, keys });
  return keys;
}

/** The trusted plan keys by fingerprint. Throws, saying what to set, when none are configured. */
export function trustedKeys(env: NodeJS.ProcessEnv = process.env): Map<string, KeyObject> {
  if (!env[TRUSTED_KEYS_ENV]) {
    throw new Error(
      `no trusted plan keys: set ${TRUSTED_KEYS_ENV} to the public key file(s) or folder of the starters this worker obeys (rebound keys generate)`,
    );
  }
  return publicKeys(TRUSTED_KEYS_ENV, 'plan', env);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const FIX = 'start it with rebound (run, serve, schedule apply) holding a signing key whose public half is in REBOUND_TRUSTED_KEYS on the worker';

/** Checks that a trusted key signed this plan hash together with this secret table. */
export function verifyStatement(planHash: string, secrets: Plan['secrets'], signature: PlanSignature | undefined): void {
  const short = planHash.slice(0, 12);
  if (!signature) throw new UntrustedPlanError(`plan ${short} is not signed; ${FIX}`);
  const key = trustedKeys().get(signature.key);
  if (!key) throw new UntrustedPlanError(`plan ${short} is signed by key ${signature.key}, which this worker does not trust; ${FIX}`);
  const statement = planStatement(planHash, sha256(canonicalJson(secrets)));
  if (!verify(null, Buffer.from(statement), key, Buffer.from(signature.sig, 'base64'))) {
    throw new UntrustedPlanError(`plan ${short}: the signature does not match its content (altered after signing?); ${FIX}`);
  }
}

/** Checks a whole plan tree: each plan's content against its hash, and each hash's signature. */
export function verifyPlan(plan: Plan, signatures: PlanSignatures | undefined): void {
  const { hash, ...body } = plan;
  const actual = sha256(canonicalJson(body));
  if (actual !== hash) throw new UntrustedPlanError(`plan ${hash.slice(0, 12)}: its content hashes to ${actual.slice(0, 12)}, not to its hash; ${FIX}`);
  verifyStatement(hash, plan.secrets, signatures?.[hash]);
  for (const child of Object.values(plan.children ?? {})) verifyPlan(child, signatures);
}
