// Child processes a test started (workers, `rebound serve`): whatever is still running when its file ends or the process exits is killed.
import type { ChildProcess } from 'node:child_process';

/** A test that times out never reaches its `finally`; these are the processes it would have stopped. */
const live = new Set<ChildProcess>();
const killLeft = () => {
  for (const child of live) child.kill('SIGKILL');
};
// The importing file's afterAll (registered at import). The benchmarks use these helpers too,
// outside Vitest, where importing it throws: there, process exit is the only net.
if (process.env.VITEST) (await import('vitest')).afterAll(killLeft);
process.once('exit', killLeft);

/** Kills `child` at the end of the test file (or process) if it is still running then. */
export function reap(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
