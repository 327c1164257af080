export { type ApolloOptions, createApolloServer, formatError } from './apollo.js';
export { type GraphQLContext, type Loaders, type RequestIdentity, createGraphQLContext, createLoaders } from './context.js';
export { INGEST, READ_CUSTOMERS, authChecker } from './auth.js';
export { buildKokyakuSchema, printKokyakuSchema, resolvers } from './schema/build.js';
export { type ExplorerOptions, explorerHtml } from './explorer.js';
export { type StandaloneOptions, type StandaloneServer, ADMIN_ACTOR, adminTokenIdentity, startStandaloneServer } from './standalone.js';
export { buildProgram, runCli } from './cli/program.js';
