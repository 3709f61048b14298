// The test runner's settings for mutation testing (`npm run mutate`): the unit tests of fleet/ and control/ only.
// Fleets, e2e and AWS emulators would make every mutant cost seconds; those tests are not what the score measures.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/fleet/**/*.test.ts', 'test/control/**/*.test.ts'],
    // A 10,000-node round proves scale, not a rule; the rules' own tests cover the same code.
    exclude: ['test/fleet/controller-decides-a-10k-node-fleet.test.ts'],
  },
});
