// Scratch folders a dead worker left behind (SIGKILLed mid-restore): each private folder names its worker, and the next scratch restore on the host stops what runs there and removes it.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FOLDER_PREFIX = 'rebound-pgbackrest-';
const OWNER = 'owner';

/** A process's start time (clock ticks since boot, /proc/PID/stat field 22): with its pid, what names it uniquely. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Marks a private folder as this worker's. */
export function markOwner(dir: string): void {
  writeFileSync(join(dir, OWNER), `${process.pid} ${startTime(process.pid) ?? ''}\n`, { mode: 0o600 });
}

/** Whether the worker that made the folder still runs (a reused pid with another start time does not count). */
function ownerAlive(dir: string): boolean {
  const file = join(dir, OWNER);
  if (!existsSync(file)) return true; // not one of ours, or not yet marked: leave it
  const [pid, started] = readFileSync(file, 'utf8').trim().split(' ');
  return startTime(Number(pid)) === started;
}

/** Processes whose command line names `path`: the scratch postmaster (-D), a pgBackRest restore (--pg1-path) or its config (--config). */
function processesUsing(path: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg.includes(path));
      } catch {
        return false;
      }
    });
}

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/** Stops what runs in each folder a dead worker left (SIGINT: the postmaster's fast shutdown; SIGKILL after 10 s) and removes the folder. */
export async function reapOrphans(log: (message: string) => void, root = tmpdir()): Promise<void> {
  for (const name of readdirSync(root).filter((n) => n.startsWith(FOLDER_PREFIX))) {
    const dir = join(root, name);
    if (ownerAlive(dir)) continue;
    const pids = processesUsing(dir);
    for (const pid of pids) process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 10_000;
    while (pids.some((pid) => !gone(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of pids.filter((p) => !gone(p))) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}, left by a worker that died${pids.length ? `, and stopped processes ${pids.join(', ')} running there` : ''}`);
  }
}
