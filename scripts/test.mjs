#!/usr/bin/env node
// `npm test`: installs what the suite needs, checks the code (types, lint, format, unused
// code), then runs every test against real servers.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const run = (cmd, args, { exitOnFailure = true } = {}) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (exitOnFailure && result.status !== 0) process.exit(result.status ?? 1);
  return result.status ?? 1;
};

// Installs again whenever package-lock.json changed since the last install, not only when
// node_modules is missing: a pulled dependency must not fail the suite on an old tree.
const lock = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
const stamp = 'node_modules/.rebound-lock-sha256';
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lock) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, lock);
}
run('npx', ['tsc', '-p', 'tsconfig.json']);
// ESLint (with the layering rules of ARCHITECTURE.md), Prettier in check mode, knip.
run('npm', ['run', '--silent', 'lint']);
run(process.execPath, ['bin/run-ts.mjs', 'scripts/ensure-tools.ts']);
const results = '.data/vitest-results.json';
rmSync(results, { force: true });
const status = run('npx', ['vitest', 'run', ...process.argv.slice(2)], { exitOnFailure: false });
// A plain closing line, whatever reads the log: "N passed, N failed, N skipped".
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed outside its tests (a beforeAll, an import) has no failed test to count: count the file.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !f.assertionResults?.some((a) => a.status === 'failed')).length;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed, ${skipped} skipped`);
}
process.exit(status);
