import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const graphqlEntry = require.resolve('graphql/index.js', { paths: [new URL('./packages/server/', import.meta.url).pathname] });

export default defineConfig({
  ssr: {
    resolve: {
      // Run the workspace packages from their TypeScript sources, never a stale dist.
      conditions: ['@kokyaku/source'],
      externalConditions: ['@kokyaku/source'],
    },
  },
  resolve: {
    conditions: ['@kokyaku/source'],
    // One copy of graphql, or type-graphql and Apollo see two different GraphQLSchema classes.
    alias: [{ find: /^graphql$/, replacement: graphqlEntry }],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Servers in tests log only warnings and errors (a line per request would drown the output).
    env: { KOKYAKU_LOG_LEVEL: 'warn' },
  },
});
