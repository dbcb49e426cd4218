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
// The whole suite on the dev server, then (unless files were named) the chosen end-to-end tests
// again on a real Temporal cluster with mTLS (vitest.cluster.config.ts; its server is built once into .tools/).
const runs = [{ results: '.data/vitest-results.json', args: process.argv.slice(2) }];
if (process.argv.length <= 2) runs.push({ results: '.data/vitest-cluster-results.json', args: ['--config', 'vitest.cluster.config.ts'] });
let status = 0;
const total = { passed: 0, failed: 0, skipped: 0 };
for (const { results, args } of runs) {
  rmSync(results, { force: true });
  const code = run('npx', ['vitest', 'run', ...args], { exitOnFailure: false });
  status ||= code;
  if (!existsSync(results)) continue;
  const r = JSON.parse(readFileSync(results, 'utf8'));
  // A file that failed outside its tests (a beforeAll, an import) has no failed test to count: count the file.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !f.assertionResults?.some((a) => a.status === 'failed')).length;
  total.passed += r.numPassedTests;
  total.failed += r.numFailedTests + brokenFiles;
  total.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
// A plain closing line, whatever reads the log: "N passed, N failed, N skipped".
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(status);
