// PyMongo's `bson` package (PyPI, pinned, in .tools/): an independent BSON reader the tests check dumped files with.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TOOLS } from './tools.ts';

/** Pinned: the newest pymongo on PyPI when this was written. */
export const PYMONGO_VERSION = '4.20.0';

/** The folder to put on PYTHONPATH for `import bson`, installed once with pip --target (cached after). */
export function ensurePymongo(log: (line: string) => void = () => {}): string {
  const target = join(TOOLS, `pymongo-${PYMONGO_VERSION}`);
  if (existsSync(join(target, 'bson', '__init__.py'))) return target;
  mkdirSync(TOOLS, { recursive: true });
  log(`installing pymongo==${PYMONGO_VERSION} from PyPI into ${target} (first run only)`);
  // Beside the target, then renamed: a concurrent or interrupted install never looks complete.
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const pip = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', partial, `pymongo==${PYMONGO_VERSION}`],
    { encoding: 'utf8', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (pip.status !== 0 || !existsSync(join(partial, 'bson', '__init__.py'))) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`cannot install pymongo==${PYMONGO_VERSION} with pip (exit ${pip.status}): ${(pip.stderr || String(pip.error ?? '')).trim().slice(-2000)}`);
  }
  try {
    renameSync(partial, target);
  } catch {
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}
