import { spawn } from 'node:child_process';
import { REBOUND_BIN } from './worker-process.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `rebound` command as a separate process. */
export function rebound(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [REBOUND_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
