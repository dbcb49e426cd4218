// Which patches a run takes, decided in its first activation (patch early-patches), before its first local activity: a later decision can be wrong on replay.
import { patched } from '@temporalio/workflow';

/**
 * Every patch the interpreter asks about after the run's start. On replay the SDK learns of a
 * patch marker only when it reaches the workflow task holding it; a local activity whose marker
 * closed one task and whose follow-up commands (a patch among them) landed in the next made
 * replay answer "not patched" where the run had said "patched", and fail with a nondeterminism
 * error (found under load: a status query arriving while verify_plan ran). Decided here, every
 * marker lands before the first local activity, in the task every replay starts with.
 * A new patch goes at the end of this list as well as where it is used.
 */
export const LATER_PATCHES = [
  'validate-builtin-inputs',
  'approval-policy',
  'failure-catalog',
  'rpo-measured-by-step',
  'run-notifications',
  'drill-state',
  'for-each',
] as const;

/** Runs recorded before early-patches decide each patch where it is used, as they did. */
export function decidePatchesEarly(): void {
  if (!patched('early-patches')) return;
  // The SDK remembers each decision, so the later patched() calls return it without a new marker.
  for (const id of LATER_PATCHES) patched(id);
}
