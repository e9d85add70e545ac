import { defineConfig } from 'vitest/config';
import { BASE } from './tests/helpers/timing.js';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    // The base deadlines of tests/helpers/timing.ts; tests/helpers/timing-setup.ts scales them
    // with the load when each file starts. On a busy machine (load 14 on 2 cores) tests that
    // take 5 s alone take 25–50 s: these bound a hung test, they are not meant to be reached.
    testTimeout: BASE.test,
    hookTimeout: BASE.hook,
    setupFiles: ['tests/helpers/timing-setup.ts'],
    pool: 'forks',
    // Two cores: run two files at a time so that timing-sensitive tests are not starved.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
  },
});
