// The test runner's settings: one place for timeouts, workers and coverage thresholds.
import { defineConfig } from 'vitest/config';

/** Starting a local fleet (six node processes, probers, a controller) takes seconds on 2 cores. */
const FLEET_SETUP_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: one test file per core. Files that start fleets pick free ports, so they may
    // run beside each other; tests inside a file stay serial.
    maxWorkers: 2,
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: FLEET_SETUP_TIMEOUT_MS,
    teardownTimeout: FLEET_SETUP_TIMEOUT_MS,
    // In CI a JSON report beside the console one lets .ci/run print a plain closing count.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.vitest-results.json' }]]
      : ['default'],
    coverage: {
      provider: 'v8',
      include: [
        'fleet/**',
        'control/**',
        'waku/**',
        'probes/**',
        'lambdas/**',
        'local/**',
        'cli/**',
      ],
      reporter: ['text-summary', 'html'],
      thresholds: {
        'fleet/**': { lines: 95, branches: 85 },
        'control/**': { lines: 90, branches: 80 },
        'waku/**': { lines: 85, branches: 75 },
        'probes/**': { lines: 85, branches: 75 },
      },
    },
  },
});
