import { expressMiddleware } from '@as-integrations/express5';
import type { Kokyaku } from '@kokyaku/core';
import express, { type Request, type Router } from 'express';
import { type ApolloOptions, createApolloServer } from './apollo.js';
import { type RequestIdentity, createGraphQLContext } from './context.js';
import { type ConsoleOptions, consoleOptions, consolePathBeside, consoleSite } from './console.js';
import { type ExplorerOptions, explorerAssets, explorerHtml } from './explorer.js';
import { metricsAnswer, notJson, notUtf8, payloadTooLarge, probe, utf8 } from './transport.js';

export { messagingRoutes } from './messaging-routes.js';
export { SHOPIFY_PRIVACY_TOPICS, type ShopifyPrivacyOptions, shopifyPrivacyWebhooks, verifyShopifyHmac } from './webhooks/shopify-privacy.js';

export interface KokyakuExpressOptions extends ApolloOptions {
  /**
   * Who is calling: map the host's session or token to an actor (with roles) and a tenant.
   * Return `{ actor: null }` for anonymous callers.
   */
  identify: (req: Request) => RequestIdentity | Promise<RequestIdentity>;
  /** Serve the GraphiQL explorer to browsers at the mount path (works offline). Default off. */
  explorer?: boolean | ExplorerOptions;
  /** Largest accepted request body (default 10mb, enough for a batch of 10,000 items). */
  bodyLimit?: string;
  /**
   * Where the API answers under the router's mount (default `/`: at the mount itself). Give it
   * (e.g. `/graphql`, the router mounted at `/crm`) to serve the console beside the API.
   */
  path?: string;
  /**
   * Serve the staff console (@kokyaku/console) beside the API: `/crm/graphql` gets `/crm/console`.
   * Who signs in is the `identify` of the API's requests. Needs `path`. Default off.
   */
  console?: boolean | ConsoleOptions;
}

export interface KokyakuRouter extends Router {
  /** Stops the GraphQL server (the host still closes Kokyaku itself). */
  stop(): Promise<void>;
}

/**
 * An Express 5 router serving Kokyaku's GraphQL API at the path you mount it on.
 *
 * @example
 * app.use('/crm/graphql', await kokyakuExpress(kokyaku, {
 *   identify: (req) => ({ actor: req.user ? { id: req.user.id, roles: ['ADMIN'] } : null }),
 * }));
 */
export async function kokyakuExpress(kokyaku: Kokyaku, options: KokyakuExpressOptions): Promise<KokyakuRouter> {
  const apiPath = `/${(options.path ?? '/').replace(/^\/+|\/+$/g, '')}`;
  const staffConsole = consoleOptions(options.console);
  if (staffConsole && apiPath === '/') {
    throw new Error(
      "kokyakuExpress: the console is served beside the API: mount the router one level up and give the API's path, e.g. app.use('/crm', await kokyakuExpress(kokyaku, { path: '/graphql', console: true, identify })).",
    );
  }
  const site = staffConsole ? await consoleSite(staffConsole) : null;
  const apollo = await createApolloServer(options, kokyaku);
  const outer = express.Router() as KokyakuRouter;
  const router = apiPath === '/' ? outer : express.Router();
  if (router !== outer) outer.use(apiPath, router);
  if (site) {
    const consolePath = consolePathBeside(apiPath);
    outer.use(consolePath, (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      // The console's relative links need its root with a slash.
      if (req.path === '/' && !req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(308, `${req.baseUrl}/`);
      const mount = req.baseUrl.slice(0, req.baseUrl.length - consolePath.length);
      const answer = site.answer({ file: req.path.slice(1), base: req.baseUrl, graphql: `${mount}${apiPath}` });
      res.status(answer.status).set(answer.headers).send(answer.body);
    });
  }
  if (options.explorer) {
    const assets = explorerAssets();
    router.get('/__explorer/:file', (req, res, next) => {
      const asset = assets.get(String(req.params.file));
      if (!asset) return next();
      res.type(asset.type).set('Cache-Control', 'public, max-age=86400').sendFile(asset.path, { dotfiles: 'allow' });
    });
    router.get('/', (req, res, next) => {
      if (!req.headers.accept?.includes('text/html') || req.query.query) return next();
      res.type('html').send(explorerHtml(req.baseUrl || '/', options.explorer === true ? {} : (options.explorer as ExplorerOptions)));
    });
  }
  // Probes: `<mount>/healthz` (the process is alive) and `<mount>/readyz` (database reachable and migrated).
  for (const which of ['healthz', 'readyz'] as const) {
    router.get(`/${which}`, (_req, res, next) => {
      probe(kokyaku, which).then(({ status, body }) => void res.status(status).json(body), next);
    });
  }
  router.get('/metrics', (req, res, next) => {
    Promise.resolve(options.identify(req))
      .then((identity) => metricsAnswer(kokyaku, identity))
      .then(({ status, contentType, body }) => void res.status(status).type(contentType).send(body), next);
  });
  const limit = options.bodyLimit ?? '10mb';
  router.use(
    express.json({
      limit,
      // Bytes that are no UTF-8 would be replaced by U+FFFD and stored as such: refuse the body.
      verify: (_req, _res, buffer) => {
        utf8.decode(buffer);
      },
    }),
    // A body refused before GraphQL sees it gets GraphQL's error shape with a code, not Express's HTML page.
    (error: { type?: string }, _req: Request, res: import('express').Response, next: import('express').NextFunction) => {
      const answer =
        error?.type === 'entity.too.large' ? payloadTooLarge(limit) : error?.type === 'entity.parse.failed' ? notJson() : error?.type === 'entity.verify.failed' ? notUtf8() : null;
      if (!answer) return next(error);
      res.status(answer.status).json(answer.body);
    },
    expressMiddleware(apollo, {
      context: async ({ req }) => createGraphQLContext(kokyaku, await options.identify(req)),
    }),
  );
  outer.stop = () => apollo.stop();
  return outer;
}
