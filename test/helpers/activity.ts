// Test helper: actions as activities fed hand-built inputs, signed as a trusted run would sign them (the suite's key), so tests that call an action directly pass the worker's plan check.
import { createHash, sign } from 'node:crypto';
import { planStatement } from '../../contract/canonical.ts';
import type { ActionInput, ActionResult } from '../../contract/run.ts';
import { secretsDigest, keyFingerprint, signingKey } from '../../client/signing.ts';
import { toActivity as wrap, type ActionImpl } from '../../activities/runtime/wrap.ts';

export type { ActionImpl };

/** Where a hand-built `with:` holds secret references: those a plan's template would have put there. */
function refPaths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (value && typeof value === 'object' && !Array.isArray(value) && ('$secret' in value || '$interpolate' in value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => refPaths(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => refPaths(v, [...at, k]));
  return [];
}

/** The input with a plan hash of its own, the suite key's signature over it and its secret table, and its secret paths. */
export function signedInput(input: ActionInput): ActionInput {
  if (input.signature) return input;
  const key = signingKey();
  const planHash = createHash('sha256').update(`test-plan:${input.run_id}:${input.step}`).digest('hex');
  const statement = planStatement(planHash, secretsDigest(input.secrets));
  return {
    ...input,
    plan_hash: planHash,
    signature: { key: keyFingerprint(key), sig: sign(null, Buffer.from(statement), key).toString('base64') },
    secret_paths: input.secret_paths ?? refPaths(input.with),
  };
}

/** toActivity, signing each input it is handed. */
export function toActivity(impl: ActionImpl): (input: ActionInput) => Promise<ActionResult> {
  const activity = wrap(impl);
  return (input) => activity(signedInput(input));
}
