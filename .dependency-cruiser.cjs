/**
 * Import rules of the packages (`pnpm check:imports`, part of `pnpm test`, with the folder check
 * of scripts/check-imports.mjs, where type imports count too; docs/architecture.md).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'No import cycle among the files of a package at run time (types that name each other, such as Kokyaku, its config and its plugins, may).',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
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
