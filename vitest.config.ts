import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Tests pin their own settings: a shop developer's shell (KOKYAKU_CURRENCY=JPY, KOKYAKU_ADMIN_TOKEN,
// KOKYAKU_DATA_DIR...) must not change what they see. Every worker and every CLI a test starts
// inherits this environment. (DATABASE_URL stays: it chooses the test server on purpose.)
for (const name of Object.keys(process.env)) if (name.startsWith('KOKYAKU_')) delete process.env[name];
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
