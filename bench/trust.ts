// The hand-written benchmark twins call Rebound's activities directly, so they carry what a signed run gives every activity: a plan hash signed with the bench's key, with no secrets.
import { createHash, sign } from 'node:crypto';
import { planStatement } from '../contract/canonical.ts';
import type { ActionInput } from '../contract/run.ts';
import { keyFingerprint, secretsDigest, signingKey } from '../client/signing.ts';

export type HandTrust = Pick<ActionInput, 'plan_hash' | 'signature' | 'secret_paths'>;

export function handTrust(name: string): HandTrust {
  const key = signingKey();
  const planHash = createHash('sha256').update(`bench-hand:${name}`).digest('hex');
  const sig = sign(null, Buffer.from(planStatement(planHash, secretsDigest({}))), key).toString('base64');
  return { plan_hash: planHash, signature: { key: keyFingerprint(key), sig }, secret_paths: [] };
}
