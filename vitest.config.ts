import { defineConfig } from 'vitest/config';

/**
 * Test projects (npm test runs them all):
 *  unit         no I/O beyond temp files, fast; npm run test:unit never needs services
 *  contract     one suite per port, run against every adapter (memory, Redis, Kafka)
 *  integration  real Kafka and Redis, processes, network
 * Contract and integration share test/support/global-services.ts, which finds or starts the real
 * services (and fails, never skips, when it cannot).
 */
export default defineConfig({
  test: {
    setupFiles: ['test/support/setup-warnings.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          globalSetup: ['test/support/global-services.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-services.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
