import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import type { Actor, Kokyaku } from '@kokyaku/core';
import express, { type Request } from 'express';
import type { ApolloOptions } from './apollo.js';
import type { RequestIdentity } from './context.js';
import type { ConsoleOptions } from './console.js';
import type { ExplorerOptions } from './explorer.js';
import { kokyakuExpress, shopifyPrivacyWebhooks } from './express.js';
import { messagingRoutes } from './messaging-routes.js';
import { metricsAnswer, probe } from './transport.js';

export interface StandaloneOptions extends ApolloOptions {
  /** TCP port (0 picks a free one). */
  port: number;
  /** Interface to listen on (default all). */
  host?: string;
  /**
   * With a token, `Authorization: Bearer <token>` makes a request an administrator of the
   * default tenant and every other request is anonymous. Without one, only requests from this
   * machine (loopback) are administrators. Default: `KOKYAKU_ADMIN_TOKEN`.
   */
  adminToken?: string;
  explorer?: boolean | ExplorerOptions;
  /** The staff console at `/console` (default on; it signs in with the admin token). */
  console?: boolean | ConsoleOptions;
  /**
   * Serve Shopify's privacy webhooks at `/webhooks/shopify` (customers/data_request,
   * customers/redact, shop/redact), verified with this app secret. Default:
   * `KOKYAKU_SHOPIFY_WEBHOOK_SECRET`; unset: not served.
   */
  shopifyWebhookSecret?: string;
  /**
   * Leave V8's allocation-site pretenuring on. By default the standalone server, which owns its
   * process, turns it off for the process: V8 decides from the objects that survived a young
   * collection (as most do while a cold server takes its first concurrent requests) to allocate
   * everything from the same places in the code straight into the old generation, and keeps that
   * decision, so each request's short-lived rows and router objects become old garbage that
   * waits for a full collection. Off, the server's peak memory under load is about a fifth lower
   * at the same throughput (docs/benchmarks.md).
   */
  pretenuring?: boolean;
  /** How long `close()` lets requests in flight finish before it cuts their connections (default 10,000 ms). */
  drainMs?: number;
}

/**
 * What the standalone server does to its process's V8 unless `pretenuring: true` (see there). A
 * host that serves Kokyaku from its own process can call it first thing.
 */
export function tuneV8ForServing(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

export interface StandaloneServer {
  url: string;
  /** The staff console's address (null with `console: false`). */
  consoleUrl: string | null;
  port: number;
  close(): Promise<void>;
}

export const ADMIN_ACTOR: Actor = Object.freeze({ id: 'admin-token', roles: Object.freeze(['ADMIN'] as const) });
const LOCAL_ADMIN: Actor = Object.freeze({ id: 'local-admin', roles: Object.freeze(['ADMIN'] as const) });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The identity rule of `kokyaku serve` (see `adminToken`). */
export function adminTokenIdentity(token: string | undefined): (req: Request) => RequestIdentity {
  if (token) {
    return (req) => {
      const header = req.headers.authorization ?? '';
      const match = /^Bearer\s+(.+)$/i.exec(header);
      return { actor: match && sameSecret(match[1]!.trim(), token) ? ADMIN_ACTOR : null };
    };
  }
  // A request relayed by a proxy on this machine also comes from loopback: it is local only
  // when no proxy header says it came from elsewhere.
  const proxied = (req: Request) => Boolean(req.headers['x-forwarded-for'] || req.headers.forwarded || req.headers['x-real-ip']);
  return (req) => ({ actor: LOOPBACK.has(req.socket.remoteAddress ?? '') && !proxied(req) ? LOCAL_ADMIN : null });
}

/** Serves Kokyaku's GraphQL API at `/graphql`, the staff console at `/console`, message links at `/kokyaku` (clicks, unsubscribe) and a health check at `/healthz`. */
export async function startStandaloneServer(kokyaku: Kokyaku, options: StandaloneOptions): Promise<StandaloneServer> {
  if (!options.pretenuring) tuneV8ForServing();
  const token = options.adminToken ?? process.env.KOKYAKU_ADMIN_TOKEN ?? undefined;
  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers POSTs: an ETag (a hash of every response body) would never be used.
  app.disable('etag');
  const identify = adminTokenIdentity(token || undefined);
  let draining = false;
  // Probes at the root too (a load balancer's usual place): /healthz alive, /readyz can serve
  // (not while the server drains before it stops).
  for (const which of ['healthz', 'readyz'] as const) {
    app.get(`/${which}`, (_req, res, next) => {
      if (which === 'readyz' && draining) return void res.status(503).json({ ok: false, ready: false, draining: true });
      probe(kokyaku, which).then(({ status, body }) => void res.status(status).json(body), next);
    });
  }
  // Prometheus: the admin token (or this machine, without one).
  app.get('/metrics', (req, res, next) => {
    metricsAnswer(kokyaku, identify(req)).then(({ status, contentType, body }) => void res.status(status).type(contentType).send(body), next);
  });
  // The console by default when its package is installed; asked for explicitly, a missing package is an error.
  const staffConsole =
    options.console ??
    (await import('@kokyaku/console').then(
      () => true,
      () => false,
    ));
  const router = await kokyakuExpress(kokyaku, { ...options, path: '/graphql', console: staffConsole, identify });
  app.use(router);
  app.use('/kokyaku', messagingRoutes(kokyaku));
  const webhookSecret = options.shopifyWebhookSecret ?? process.env.KOKYAKU_SHOPIFY_WEBHOOK_SECRET;
  if (webhookSecret) app.use('/webhooks/shopify', shopifyPrivacyWebhooks(kokyaku, { secret: webhookSecret, logger: options.logger }));
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host ?? '::', (error?: Error) => (error ? reject(error) : resolve(s)));
    s.on('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  // Message links point here unless messaging.publicUrl (KOKYAKU_PUBLIC_URL) says where the
  // world reaches this server.
  kokyaku.config.messaging.publicUrl ??= `http://localhost:${port}/kokyaku`;
  return {
    url: `http://localhost:${port}/graphql`,
    consoleUrl: staffConsole ? `http://localhost:${port}/console/` : null,
    port,
    close: async () => {
      // Drain: /readyz says 503, no new connections, idle ones closed; requests in flight
      // finish (up to drainMs, then their connections are cut), then Apollo stops.
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const cut = setTimeout(() => server.closeAllConnections(), options.drainMs ?? 10_000);
      await closed;
      clearInterval(idle);
      clearTimeout(cut);
      await router.stop();
    },
  };
}
