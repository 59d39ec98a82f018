import { defineConfig } from 'vitest/config';

// The reliability suite (`npm run test:reliability`): the whole stack as real processes under
// load, with faults, and a bounded soak. Not part of `npm test` (vitest.config.ts does not
// include test/reliability). One file at a time: each runs several processes and a steady
// load, and the soak's memory figures must not share the machine with the faults.
// Packages export dist/ by default and their sources under this condition (docs/adr/0008):
// the suite runs the sources, without a build, as `npm test` does.
const SOURCE_CONDITION = 'podgate-source';

export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE_CONDITION, 'module', 'node', 'development|production'] } },
  test: {
    env: {
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--conditions=${SOURCE_CONDITION}`].filter(Boolean).join(' '),
    },
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
