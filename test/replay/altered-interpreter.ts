// Replay-test fixture: the interpreter with an unguarded change (an extra timer), which replaying recorded histories must reject.
import { sleep } from '@temporalio/workflow';
import { runbook as current } from '../../workflows/interpreter.ts';
import type { RunInput } from '../../contract/run.ts';

/**
 * The interpreter with an unguarded change (an extra timer before the first step), as a
 * careless edit would make it. Replaying old histories against it must fail: that is
 * what proves the replay test would catch such an edit.
 */
export async function runbook(input: RunInput) {
  await sleep(1);
  return current(input);
}
