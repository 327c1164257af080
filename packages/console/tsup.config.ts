import { defineConfig } from 'tsup';

// The Node side: where the built console lies. The console itself is built by Vite (vite.config.ts) into dist/app.
export default defineConfig({
  entry: { 'node/index': 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: false,
  target: 'es2022',
  shims: true,
});
