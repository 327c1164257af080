import { defineConfig } from 'tsup';

// Medusa loads a plugin's subscribers, jobs and API routes from `.medusa/server/src/**` (CommonJS),
// one file per resource: every source file is an entry, built to the same place.
export default defineConfig({
  entry: ['src/**/*.ts', '!src/**/*.test.ts'],
  outDir: '.medusa/server/src',
  format: ['cjs'],
  // KOKYAKU_FAST_BUILD (the tests, the example): the JavaScript only, in a fraction of a second.
  dts: process.env.KOKYAKU_FAST_BUILD ? false : { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  // Files are overwritten, never deleted first: a Medusa server of the tests may be reading them
  // while `pnpm pack:all` (docs.test.ts) builds the package again.
  clean: false,
  bundle: false,
  target: 'node20',
});
