import { readFile } from 'node:fs/promises';
import fastifyApollo from '@as-integrations/fastify';
import type { Kokyaku } from '@kokyaku/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApolloOptions, createApolloServer } from './apollo.js';
import { type RequestIdentity, createGraphQLContext } from './context.js';
import { type ConsoleOptions, consoleOptions, consolePathBeside, consoleSite } from './console.js';
import { type ExplorerOptions, explorerAssets, explorerHtml } from './explorer.js';
import { messagingFetchHandler } from './messaging-routes.js';
import { metricsAnswer, notJson, payloadTooLarge, probe } from './transport.js';

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
  /** Serve the GraphiQL explorer to browsers at the API's path (works offline). Default off. */
  explorer?: boolean | ExplorerOptions;
  /** Serve the staff console (@kokyaku/console) beside the API: `/crm/graphql` gets `/crm/console`. Default off. */
  console?: boolean | ConsoleOptions;
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
  const staffConsole = consoleOptions(options.console);
  const site = staffConsole ? await consoleSite(staffConsole) : null;
  const apollo = await createApolloServer(options, kokyaku);
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      await apollo.stop();
    });
    const path = options.path ?? '/graphql';
    if (options.explorer) {
      const assets = explorerAssets();
      const settings = options.explorer === true ? {} : options.explorer;
      app.get(`${path}/__explorer/:file`, async (request, reply) => {
        const asset = assets.get((request.params as { file: string }).file);
        if (!asset) return reply.code(404).send();
        return reply
          .type(asset.type === 'css' ? 'text/css' : 'text/javascript')
          .header('cache-control', 'public, max-age=86400')
          .send(await readFile(asset.path));
      });
      // Browsers asking for a page get the explorer; GraphQL GETs (with ?query=) go to Apollo.
      app.addHook('onRequest', async (request, reply) => {
        const url = new URL(request.url, 'http://localhost');
        if (request.method !== 'GET' || !url.pathname.endsWith(path) || url.searchParams.has('query') || !request.headers.accept?.includes('text/html')) return;
        return reply.type('text/html').send(explorerHtml(url.pathname, settings));
      });
    }
    if (site) {
      const consolePath = consolePathBeside(path);
      const base = `${app.prefix}${consolePath}`;
      app.get(consolePath, async (_request, reply) => reply.redirect(`${base}/`, 308));
      app.get(`${consolePath}/*`, async (request, reply) => {
        const answer = site.answer({ file: (request.params as { '*': string })['*'], base, graphql: `${app.prefix}${path}` });
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      });
    }
    for (const which of ['healthz', 'readyz'] as const) {
      app.get(`${path}/${which}`, async (_request, reply) => {
        const { status, body } = await probe(kokyaku, which);
        return reply.code(status).send(body);
      });
    }
    app.get(`${path}/metrics`, async (request, reply) => {
      const { status, contentType, body } = await metricsAnswer(kokyaku, await options.identify(request));
      return reply.code(status).type(contentType).send(body);
    });
    // A body refused before GraphQL sees it: GraphQL's error shape with a code.
    app.setErrorHandler(async (error: { statusCode?: number; code?: string }, _request, reply) => {
      const answer =
        error.statusCode === 413 ? payloadTooLarge(app.initialConfig.bodyLimit ?? 1_048_576) : error.statusCode === 400 && /^FST_ERR_CTP/.test(error.code ?? '') ? notJson() : null;
      if (!answer) throw error;
      return reply.code(answer.status).send(answer.body);
    });
    await app.register(fastifyApollo(apollo), {
      path,
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
