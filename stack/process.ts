// One server process of the stack or a test: started with its output in a log file, waited on until it answers, stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** A test server that fault tests stop and start again by its pid; destroy() also removes its folder. */
export interface RestartableServer {
  pid(): number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface ServerProcessSpec {
  /** Names it in errors: "etcd did not start (…)". */
  name: string;
  command: string;
  args: string[];
  /** Its stdout and stderr are appended here; a failed start shows the tail. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** True once it serves; a throw counts as "not yet" (its message goes into the start error). */
  ready: () => Promise<boolean> | boolean;
  timeoutMs?: number;
  intervalMs?: number;
  /** How stop() asks it to go (default SIGTERM), and after how long it is killed if it has not. */
  stopSignal?: NodeJS.Signals;
  killAfterMs?: number;
  /** How much of the log's end a failed start quotes (characters, default 2000). */
  logTail?: number;
}

/**
 * A restartable server process: start() spawns it and polls `ready` until it answers, or
 * kills it and throws with the log's tail if it exits or times out; stop() signals its pid
 * and waits for it to exit. pid is set from the spawn on, so an owner that must kill what
 * is left on exit sees a server that is still starting.
 */
export class ServerProcess {
  private child?: ChildProcess;

  constructor(private readonly spec: ServerProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The exit code of the last process started, when it exited by itself. */
  get exitCode(): number | null {
    return this.child?.exitCode ?? null;
  }

  running(): boolean {
    return !!this.child && this.child.exitCode === null && !this.child.signalCode;
  }

  async start(): Promise<void> {
    const { command, args, logFile, env, cwd, uid, gid } = this.spec;
    const out = openSync(logFile, 'a');
    const child = spawn(command, args, { stdio: ['ignore', out, out], env, cwd, uid, gid });
    closeSync(out); // the child holds its own copy
    this.child = child;
    try {
      await this.untilReady(child);
    } catch (error) {
      await stopProcess(child, 'SIGKILL');
      throw error;
    }
  }

  stop(): Promise<void> {
    return stopProcess(this.child, this.spec.stopSignal ?? 'SIGTERM', this.spec.killAfterMs);
  }

  private async untilReady(child: ChildProcess): Promise<void> {
    const { name, ready, logFile, timeoutMs = 30_000, intervalMs = 100, logTail = 2000 } = this.spec;
    const deadline = Date.now() + timeoutMs;
    let lastError: Error | undefined;
    for (;;) {
      try {
        if (await ready()) return;
      } catch (error) {
        lastError = error as Error;
      }
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (exited || Date.now() > deadline) {
        const why = exited ? `exited ${child.exitCode ?? child.signalCode}` : `no answer within ${timeoutMs / 1000} s`;
        const tail = readFileSync(logFile, 'utf8').slice(-logTail);
        throw new Error(`${name} did not start (${why}): ${lastError ? `${lastError.message}\n` : ''}${tail}`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** Signals a child that is still running and waits for it to exit; SIGKILL after `killAfterMs` if given. */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

/** Whether something accepts TCP connections on 127.0.0.1:port (a readiness check for servers with no cheap request). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Whether a process with this pid is still there (a signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
