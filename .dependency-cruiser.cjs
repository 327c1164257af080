/**
 * Import rules of the packages (`pnpm check:cycles`, part of `pnpm test`). Type imports count:
 * a cycle through types is still a cycle in the design (docs/architecture.md).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'No import cycle among the files of a package: a folder that needs another is above it, never beside it.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true },
    },
    {
      name: 'core-stands-alone',
      comment: 'Core is framework-agnostic: it never imports the server, the client, the console or a connector.',
      severity: 'error',
      from: { path: '^packages/core/src/' },
      to: { path: '^packages/(server|client|console|vendure|medusa)/|@kokyaku/(server|client|console|vendure|medusa)' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|test|\\.medusa)/|\\.test\\.tsx?$' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
