import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  // Vendure, NestJS and TypeORM are the host's: one copy of each, or its DI and entities break.
  external: [/^@vendure\//, /^@nestjs\//, 'typeorm', 'graphql', 'graphql-tag', '@kokyaku/console'],
});
