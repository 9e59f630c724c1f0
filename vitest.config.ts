import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // One PostgreSQL server for the run (PG_TEST_URL, or an embedded one started and stopped here).
    globalSetup: ['test/setup/postgres-global-setup.ts'],
    // Suites start loopback servers; two workers match the 2-core machines we run on.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
  },
});
