// A graphql-codegen plugin: re-exports the generated hooks with the typed documents of
// graphql.ts (TypedDocumentString<Result, Variables>) instead of the untyped copies the React
// Query plugin writes beside its hooks.
const { Kind } = require('graphql');

const pascal = (name) => name.charAt(0).toUpperCase() + name.slice(1);

module.exports = {
  plugin(_schema, documents) {
    const names = new Set();
    for (const { document } of documents) {
      for (const definition of document?.definitions ?? []) {
        if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(`${pascal(definition.name.value)}Document`);
        if (definition.kind === Kind.FRAGMENT_DEFINITION) names.add(`${pascal(definition.name.value)}FragmentDoc`);
      }
    }
    return [`export * from './react.js';`, `export {`, ...[...names].sort().map((n) => `  ${n},`), `} from './graphql.js';`, ''].join('\n');
  },
};
