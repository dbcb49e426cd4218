// Running an action's external tool (pg_dump, pg_restore…): spawned without a shell, killed on cancel, its exit mapped to an ActionError.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ActionError } from './errors.ts';

export interface ToolRun {
  child: ChildProcess;
  stdout: Readable;
  stdin: Writable;
  /** Resolves when the tool exits 0; rejects with a mapped ActionError otherwise. */
  done: Promise<void>;
}

export interface ToolOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Masks secrets out of the tool's stderr before it is reported. */
  mask: (text: string) => string;
  /** Whether a failure with this stderr may succeed on retry. */
  retryable: (stderr: string, code: number | null) => boolean;
  /** Run as this OS user (a worker running as root runs pgBackRest as the data directory's owner). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** A tool that ran and exited with an error (a backend_error): what a test-restore reads as a verdict on the point. */
export class ToolFailure extends ActionError {}

/**
 * Spawns an external tool with an argument array — never through a shell — and maps its
 * exit to success or an ActionError carrying its (trimmed, masked) stderr. Aborting the
 * signal kills it: SIGTERM, then SIGKILL if it lingers.
 */
export function runTool(options: ToolOptions): ToolRun {
  const { uid, gid, cwd } = options;
  const child = spawn(options.command, options.args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], uid, gid, cwd });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const kill = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
  };
  options.signal.addEventListener('abort', kill, { once: true });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new ActionError('unsupported', `${options.command}: ${error.message}`, { retryable: false })));
    child.once('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      const text = options.mask(stderr.trim().split('\n').slice(-6).join(' | ')) || '(no output)';
      const how = signal ? `was killed by ${signal}` : `exited ${code}`;
      reject(
        new ToolFailure('backend_error', `${options.command.split('/').pop()} ${how}: ${text}`, {
          retryable: !options.signal.aborted && options.retryable(stderr, code),
        }),
      );
    });
  });
  // A consumer that stops reading early would otherwise leave an unhandled EPIPE.
  child.stdin!.on('error', () => undefined);
  return { child, stdout: child.stdout!, stdin: child.stdin!, done };
}
