// The hand-written benchmark twins call Rebound's activities directly, so they carry what a signed run gives every activity: a plan hash signed with the bench's key, with no secrets.
import type { ActionInput } from '../contract/run.ts';
import { signedInput } from '../test/helpers/activity.ts';

export type HandTrust = Pick<ActionInput, 'plan_hash' | 'signature' | 'secret_paths'>;

export function handTrust(name: string): HandTrust {
  const bare = { runbook: name, run_id: name, step: 'hand', backend: 'bench', simulate: false, max_attempts: 1, with: {}, secrets: {} };
  const { plan_hash, signature, secret_paths } = signedInput(bare);
  return { plan_hash, signature, secret_paths };
}
