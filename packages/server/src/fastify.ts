import fastifyApollo from '@as-integrations/fastify';
import type { Kokyaku } from '@kokyaku/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApolloOptions, createApolloServer } from './apollo.js';
import { type RequestIdentity, createGraphQLContext } from './context.js';
import { messagingFetchHandler } from './messaging-routes.js';

export interface KokyakuFastifyOptions extends ApolloOptions {
  /** Who is calling: map the host's session or token to an actor (with roles) and a tenant. */
  identify: (request: FastifyRequest) => RequestIdentity | Promise<RequestIdentity>;
  /** Where the API answers (default `/graphql`; under the prefix you register the plugin with). */
  path?: string;
  /**
   * Also serve the message links of journeys (tracked clicks, unsubscribe, SMS status) at this
   * path under the prefix, e.g. `/m`; point `messaging.publicUrl` there. Default: not served.
   */
  messagingPath?: string;
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
  const apollo = await createApolloServer(options, kokyaku);
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      await apollo.stop();
    });
    await app.register(fastifyApollo(apollo), {
      path: options.path ?? '/graphql',
      context: async (request: FastifyRequest) => createGraphQLContext(kokyaku, await options.identify(request)),
    });
    if (options.messagingPath) {
      const base = options.messagingPath.replace(/\/$/, '');
      const links = messagingFetchHandler(kokyaku, base);
      await app.register(async (scope) => {
        // Mail clients' one-click unsubscribe and Twilio post forms: kept as text for the handler.
        scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => done(null, body));
        scope.route({
          method: ['GET', 'POST'],
          url: `${base}/*`,
          handler: async (request, reply) => {
            const url = new URL(request.url, 'http://localhost');
            // The handler sees the path under the plugin's prefix, as it was mounted.
            const path = url.pathname.slice(url.pathname.indexOf(`${base}/`));
            const response = await links(
              new Request(new URL(`${path}${url.search}`, 'http://localhost'), {
                method: request.method,
                headers: request.headers as Record<string, string>,
                body: request.method === 'POST' ? String(request.body ?? '') : undefined,
              }),
            );
            if (!response) return reply.code(404).send();
            reply.code(response.status).headers(Object.fromEntries(response.headers));
            return reply.send(response.body ? await response.text() : null);
          },
        });
      });
    }
  };
}
