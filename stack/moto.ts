// moto's standalone server (PyPI `moto[server]`): real AWS control-plane APIs (Route 53, ELBv2, EC2 …) on loopback.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { ServerProcess } from './process.ts';
import { TOOLS } from './tools.ts';

/** Pinned: `pip index versions moto` listed 5.2.5 as the newest release when this was written. */
export const MOTO_VERSION = '5.2.5';

/** The folder holding moto and its dependencies, installed once with pip --target (cached after). */
export function ensureMoto(log: (line: string) => void = () => {}): string {
  const target = join(TOOLS, `moto-${MOTO_VERSION}`);
  if (existsSync(join(target, 'moto', '__init__.py'))) return target;
  mkdirSync(TOOLS, { recursive: true });
  log(`installing moto[server]==${MOTO_VERSION} from PyPI into ${target} (first run only)`);
  // Installed beside the target and renamed into place, so two test workers installing at
  // once, or an interrupted install, never leave a half-filled folder that looks complete.
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const pip = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', partial, `moto[server]==${MOTO_VERSION}`],
    {
      encoding: 'utf8',
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
    },
  );
  if (pip.status !== 0 || !existsSync(join(partial, 'moto', '__init__.py'))) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `cannot install moto[server]==${MOTO_VERSION} with pip (exit ${pip.status}): ${(pip.stderr || String(pip.error ?? '')).trim().slice(-2000)}`,
    );
  }
  try {
    renameSync(partial, target);
  } catch {
    // Another process finished first; its copy is as good as ours.
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT — give it to any AWS SDK client as `endpoint`; any key pair is accepted. */
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    return true; // any HTTP answer means the server is serving
  } catch {
    return false;
  }
}

/** One moto server on a free loopback port; every AWS service moto implements is on it. */
export async function startMoto(options: { log?: (line: string) => void } = {}): Promise<MotoServer> {
  const target = ensureMoto(options.log);
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'rebound-moto-'));
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = new ServerProcess({
    name: `moto on port ${port}`,
    command: 'python3',
    args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    logFile: join(logDir, 'moto.log'),
    env: { ...process.env, PYTHONPATH: target, PYTHONDONTWRITEBYTECODE: '1' },
    ready: () => answers(endpoint),
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  await proc.start();
  return {
    endpoint,
    pid: proc.pid!,
    stop: async () => {
      await proc.stop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
