// Test helper: starts `rebound worker` as a separate process, waits until it polls its queue, captures its output, kills it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reap } from './reaper.ts';

export const REBOUND_BIN = fileURLToPath(new URL('../../bin/rebound.mjs', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker wrote, stdout and stderr. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `rebound worker` as a separate process and waits until it polls its queue. */
export async function startWorkerProcess(options: {
  address: string;
  site: string;
  bundle: string;
  env?: Record<string, string>;
  /** Options for node itself (those NODE_OPTIONS refuses, such as --cpu-prof); they replace the shebang's. */
  nodeArgs?: string[];
  /** How long to wait for it to poll (default 120 s: a worker process can take a minute to start on a busy machine). */
  startTimeoutMs?: number;
  /** More options of `rebound worker` (`--metrics ADDR`). */
  args?: string[];
}): Promise<WorkerProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const args = ['worker', '--site', options.site, '--bundle', options.bundle, ...(options.args ?? [])];
  // Run as an operator runs it (`npx rebound worker`): through the shebang and the memory settings it holds.
  const [command, argv] = options.nodeArgs ? [process.execPath, [...options.nodeArgs, REBOUND_BIN, ...args]] : [REBOUND_BIN, args];
  const child = spawn(command, argv, {
    env: { ...process.env, TEMPORAL_ADDRESS: options.address, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reap(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker did not start within ${startTimeoutMs / 1000}s:\n${output}`));
    }, startTimeoutMs);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    };
    const check = () => {
      if (output.includes('polling task queue')) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', early);
  });
  return {
    child,
    output: () => output,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}
