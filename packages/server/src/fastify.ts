import fastifyApollo from '@as-integrations/fastify';
import type { Kokyaku } from '@kokyaku/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApolloOptions, createApolloServer } from './apollo.js';
import { type RequestIdentity, createGraphQLContext } from './context.js';
import { buildKokyakuSchema } from './schema/build.js';

export interface KokyakuFastifyOptions extends ApolloOptions {
  /** Who is calling: map the host's session or token to an actor (with roles) and a tenant. */
  identify: (request: FastifyRequest) => RequestIdentity | Promise<RequestIdentity>;
  /** Where the API answers (default `/graphql`; under the prefix you register the plugin with). */
  path?: string;
}

/**
 * A Fastify 5 plugin serving Kokyaku's GraphQL API. The GraphQL server stops when Fastify
 * closes (the host still closes Kokyaku itself).
 *
 * @example
 * await app.register(await kokyakuFastify(kokyaku, { identify: (req) => ({ actor: staffOf(req) }) }), { prefix: '/crm' });
 * // POST /crm/graphql
 */
export async function kokyakuFastify(kokyaku: Kokyaku, options: KokyakuFastifyOptions): Promise<(app: FastifyInstance) => Promise<void>> {
  const apollo = await createApolloServer({ ...options, schema: options.schema ?? (await buildKokyakuSchema({ plugins: kokyaku.plugins.plugins })) });
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      await apollo.stop();
    });
    await app.register(fastifyApollo(apollo), {
      path: options.path ?? '/graphql',
      context: async (request: FastifyRequest) => createGraphQLContext(kokyaku, await options.identify(request)),
    });
  };
}
