#!/usr/bin/env node
// `npm test`: installs what the suite needs (npm packages, then — in the suite's global
// setup — the Temporal CLI into .tools/), and runs every test against real servers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync('node_modules/.package-lock.json')) run('npm', ['ci', '--no-audit', '--no-fund']);
run('npx', ['tsc', '-p', 'tsconfig.json']);
run('npx', ['vitest', 'run', ...process.argv.slice(2)]);
