// Canonical JSON (sorted keys) and the statements plan signatures cover: shared by the signer (client) and the verifier (worker).
/** JSON with object keys in sorted order, written directly (no sorted copies to collect). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** One plan's signature: which key made it (its fingerprint) and the Ed25519 signature, base64. */
export interface PlanSignature {
  key: string;
  sig: string;
}

/** Signatures of a plan and of every child plan inside it, keyed by plan hash. */
export type PlanSignatures = Record<string, PlanSignature>;

/**
 * What a signature covers: the plan's hash and the digest of its secret table. The table is
 * named apart from the hash so that a worker handed only an activity's input (not the whole
 * plan) can still check that the secret references it is asked to resolve are the signed ones.
 */
export function planStatement(planHash: string, secretsDigest: string): string {
  return `rebound.plan-signature/v1\nplan ${planHash}\nsecrets ${secretsDigest}\n`;
}
