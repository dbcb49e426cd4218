// `--keep`: leave the embedded stack up until Ctrl-C or SIGTERM.
import type { StackOwner } from '../stack/owner.ts';

export async function untilInterrupted(owner: StackOwner): Promise<void> {
  console.log('--keep: the stack stays up until Ctrl-C');
  await owner.untilSignal();
}
