#!/usr/bin/env node
// `npm test`: installs what the suite needs (npm packages, then — in the suite's global
// setup — the Temporal CLI into .tools/), and runs every test against real servers.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args, { exitOnFailure = true } = {}) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (exitOnFailure && result.status !== 0) process.exit(result.status ?? 1);
  return result.status ?? 1;
};

if (!existsSync('node_modules/.package-lock.json')) run('npm', ['ci', '--no-audit', '--no-fund']);
run('npx', ['tsc', '-p', 'tsconfig.json']);
run(process.execPath, ['bin/run-ts.mjs', 'scripts/ensure-tools.ts']);
const results = '.data/vitest-results.json';
rmSync(results, { force: true });
const status = run('npx', ['vitest', 'run', ...process.argv.slice(2)], { exitOnFailure: false });
// A plain closing line, whatever reads the log: "N passed, N failed, N skipped".
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests + (r.numFailedTestSuites ?? 0)} failed, ${skipped} skipped`);
}
process.exit(status);
