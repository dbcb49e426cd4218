// Installing Debian packages for test servers: apt-get as root, with the packages' own service starts refused.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const POLICY = '/usr/sbin/policy-rc.d';

/**
 * `apt-get install` of `packages` unless `installed()` already holds. policy-rc.d exiting
 * 101 tells invoke-rc.d not to start the packages' services: the stack starts its own.
 */
export function aptInstall(what: string, packages: string[], installed: () => boolean, log: (line: string) => void): void {
  if (installed()) return;
  if (process.getuid?.() !== 0) throw new Error(`${what} is not installed; as root, run: apt-get install ${packages.join(' ')}`);
  log(`installing ${packages.join(', ')} from Debian's packages`);
  const ownPolicy = !existsSync(POLICY);
  if (ownPolicy) writeFileSync(POLICY, `#!/bin/sh\n# written by rebound while installing ${what}: start no services\nexit 101\n`, { mode: 0o755 });
  try {
    let install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    // A fresh machine has no package lists yet.
    if (install.status !== 0 && /Unable to locate package|has no installation candidate/.test(install.stderr ?? '')) {
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
        encoding: 'utf8',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    if (install.status !== 0 || !installed())
      throw new Error(`cannot install ${what} (apt-get exited ${install.status}): ${(install.stderr ?? '').trim().slice(-2000)}`);
  } finally {
    if (ownPolicy) rmSync(POLICY, { force: true });
  }
}
