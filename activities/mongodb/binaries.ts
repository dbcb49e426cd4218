// Running the MongoDB Database Tools binaries: a private folder holding the connection string, the run itself, their version.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '../runtime/errors.ts';
import { runTool } from '../runtime/tool.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { configYaml, isAuthFailure, retryableToolFailure, versionLine } from './database-tools.ts';

/** `<tool> --version`'s first line, for the manifest. */
export function binaryVersion(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? versionLine(result.stdout) : 'unknown';
}

/**
 * A private folder for one run of a tool: mode 0700, with the `--config` file (mode 0600)
 * that carries the connection string. Removed by `cleanup`, whatever happened.
 */
export async function privateFolder(prefix: string, url: string): Promise<{ dir: string; config: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await chmod(dir, 0o700);
    const config = join(dir, 'config.yaml');
    await writeFile(config, configYaml(url), { mode: 0o600, flag: 'wx' });
    return { dir, config, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Runs a Database Tools binary to its end: its stdout drained, killed if the step is
 * cancelled (runTool does that), and a refused login made as plain as the driver's.
 */
export async function runBinary(command: string, args: string[], ctx: ActionContext, onStderr?: (text: string) => void): Promise<void> {
  const run = runTool({ command, args, signal: ctx.signal, mask: ctx.mask, retryable: retryableToolFailure });
  run.stdin.end();
  run.stdout.resume();
  if (onStderr) run.child.stderr!.on('data', (d: Buffer) => onStderr(d.toString()));
  try {
    await run.done;
  } catch (error) {
    if (error instanceof ActionError && isAuthFailure(error.message))
      throw new ActionError('auth_failed', `${error.message} (authentication failed: check the user and password in the secret)`, {
        retryable: false,
      });
    throw error;
  }
}
