// Vitest configuration: which test files run, the shared Temporal global setup, two forked workers, timeouts, JSON results.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{test,contract,compiler,workflows,activities,worker,client,stack,cli,serve,console}/**/*.test.ts'],
    // The cluster's own tests run in the cluster run (vitest.cluster.config.ts), which scripts/test.mjs starts after this one.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.data/vitest-results.json' },
  },
});
