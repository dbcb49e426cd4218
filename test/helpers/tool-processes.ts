// The external tools a worker process spawned (pg_dump …): found through /proc, their argv and environment read, their exit awaited.
import { readdirSync, readFileSync } from 'node:fs';
import { alive } from './processes.ts';

/** The live children of `ppid` whose command name is `comm`. */
export function childrenNamed(ppid: number, comm: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const ppidOf = Number(stat.slice(close + 2).split(' ')[1]);
        return ppidOf === ppid && stat.slice(stat.indexOf('(') + 1, close) === comm && alive(pid);
      } catch {
        return false;
      }
    });
}

/**
 * Waits for a child named `comm` of `ppid` (the pg_dump a worker spawned) whose argv `matches`;
 * a short-lived sibling that exits between the listing and the read is passed over.
 */
export async function waitForChild(ppid: number, comm: string, timeoutMs = 60_000, matches: (argv: string[]) => boolean = () => true): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const argvOf = (pid: number) => {
    try {
      return procStrings(pid, 'cmdline');
    } catch {
      return undefined; // gone already
    }
  };
  while (Date.now() < deadline) {
    const pid = childrenNamed(ppid, comm).find((p) => {
      const argv = argvOf(p);
      return argv !== undefined && matches(argv);
    });
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no matching ${comm} child of ${ppid} within ${timeoutMs}ms`);
}

/** Whether `pid` exited (or is a zombie) within `timeoutMs`. */
export async function exitsWithin(pid: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** A process's argv, or its environment as NAME=value entries. */
export function procStrings(pid: number, what: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${what}`, 'utf8').split('\0').filter(Boolean);
}
