import { configDefaults, defineConfig } from 'vitest/config';

// Workspace packages export their compiled dist/ by default and their TypeScript sources
// under this condition (docs/adr/0008): tests always run the sources, without a build.
const SOURCE_CONDITION = 'podgate-source';

export default defineConfig({
  // Vite's server-side defaults, with the sources' condition first.
  ssr: { resolve: { conditions: [SOURCE_CONDITION, 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The reliability suite runs on its own: npm run test:reliability (vitest.reliability.config.ts).
    exclude: [...configDefaults.exclude, 'test/reliability/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start their own redis-server processes; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
    // Node processes that tests start (`node --import tsx ...`) resolve the sources too.
    env: {
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--conditions=${SOURCE_CONDITION}`].filter(Boolean).join(' '),
    },
  },
});
