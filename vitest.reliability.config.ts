import { defineConfig } from 'vitest/config';

// The reliability suite (`npm run test:reliability`): the whole stack as real processes under
// load, with faults, and a bounded soak. Not part of `npm test` (vitest.config.ts does not
// include test/reliability). One file at a time: each runs several processes and a steady
// load, and the soak's memory figures must not share the machine with the faults.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
