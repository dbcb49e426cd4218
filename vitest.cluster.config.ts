// Vitest configuration of the cluster run: the chosen end-to-end tests and the cluster's own, on a real Temporal cluster with mTLS instead of the dev server.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    // Failover with failback, crash-resume, serve's dedup under a storm, Schedules across a worker restart, a PITR round trip; and what only a cluster shows.
    include: [
      'test/e2e/failover.test.ts',
      'test/e2e/crash.test.ts',
      'test/e2e/serve.test.ts',
      'test/e2e/schedule.test.ts',
      'test/integration/pitr-drill.test.ts',
      'test/cluster/**/*.test.ts',
    ],
    exclude: [],
    globalSetup: ['test/cluster-setup.ts'],
    outputFile: { json: '.data/vitest-cluster-results.json' },
  },
});
