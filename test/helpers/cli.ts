// Test helpers that run the real `rebound` CLI as a separate process, to its end or until its output matches.
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

/**
 * Runs `rebound` until its output satisfies `until` (then SIGTERMs it) or `timeoutMs`
 * passes; `code` is null when it was still running.
 */
export function reboundUntil(
  args: string[],
  env: Record<string, string>,
  until: (out: { stdout: string; stderr: string }) => boolean,
  timeoutMs: number,
): Promise<CliResult & { matched: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [REBOUND_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    let matched = false;
    let code: number | null = null;
    const stop = () => child.exitCode === null && child.kill('SIGTERM');
    const timer = setTimeout(stop, timeoutMs);
    const check = () => {
      if (!matched && until(out)) {
        matched = true;
        stop();
      }
    };
    child.stdout.on('data', (d) => ((out.stdout += d), check()));
    child.stderr.on('data', (d) => ((out.stderr += d), check()));
    child.on('exit', (c, signal) => {
      clearTimeout(timer);
      code = signal ? null : c;
      resolve({ ...out, matched, code: code as number });
    });
  });
}
