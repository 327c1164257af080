import { HeaderMap } from '@apollo/server';
import type { Kokyaku } from '@kokyaku/core';
import { type ApolloOptions, createApolloServer } from './apollo.js';
import { type ConsoleOptions, consoleOptions, consolePathBeside, consoleSite } from './console.js';
import { type RequestIdentity, createGraphQLContext } from './context.js';
import { metricsAnswer, notJson, notUtf8, payloadTooLarge, probe, utf8 } from './transport.js';

export { messagingFetchHandler } from './messaging-routes.js';

export interface KokyakuFetchOptions extends ApolloOptions {
  /** Who is calling: map the host's session (cookies, a bearer token) to an actor and a tenant. */
  identify: (request: Request) => RequestIdentity | Promise<RequestIdentity>;
  /** Largest accepted request body in bytes (default 10 MB, enough for a batch of 10,000 items). */
  bodyLimit?: number;
  /** The API's path as requests reach the handler, e.g. `/crm/graphql`: needed for the console. */
  path?: string;
  /**
   * Serve the staff console (@kokyaku/console) beside the API (`/crm/graphql` gets `/crm/console`);
   * route both paths to this handler (Next.js: app/crm/[...kokyaku]/route.ts). Needs `path`.
   */
  console?: boolean | ConsoleOptions;
}

export interface KokyakuFetchHandler {
  (request: Request): Promise<Response>;
  /** Stops the GraphQL server (the host still closes Kokyaku itself). */
  stop(): Promise<void>;
}

/**
 * Kokyaku's GraphQL API as a web-standard handler, `(Request) => Promise<Response>`: a Next.js
 * App Router route handler, or any runtime with fetch's Request and Response (Hono, Bun, Deno).
 *
 * @example
 * // app/api/crm/route.ts (Next.js)
 * const handler = kokyakuFetchHandler(await getKokyaku(), { identify: async (req) => ({ actor: await staffFrom(req) }) });
 * export const GET = async (req: Request) => (await handler)(req);
 * export const POST = GET;
 */
export async function kokyakuFetchHandler(kokyaku: Kokyaku, options: KokyakuFetchOptions): Promise<KokyakuFetchHandler> {
  const staffConsole = consoleOptions(options.console);
  if (staffConsole && !options.path) {
    throw new Error(
      "kokyakuFetchHandler: the console is served beside the API: give the API's path, e.g. { path: '/crm/graphql', console: true } (the console answers at /crm/console).",
    );
  }
  const site = staffConsole ? await consoleSite(staffConsole) : null;
  const graphqlPath = options.path ? `/${options.path.replace(/^\/+|\/+$/g, '')}` : '';
  const consolePath = graphqlPath ? consolePathBeside(graphqlPath) : '';
  const apollo = await createApolloServer(options, kokyaku);
  const limit = options.bodyLimit ?? 10 * 1024 * 1024;
  const handler = (async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (site && (request.method === 'GET' || request.method === 'HEAD') && (url.pathname === consolePath || url.pathname.startsWith(`${consolePath}/`))) {
      if (url.pathname === consolePath) return new Response(null, { status: 308, headers: { location: `${consolePath}/` } });
      const answer = site.answer({ file: url.pathname.slice(consolePath.length + 1), base: consolePath, graphql: graphqlPath });
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(Buffer.from(answer.body)), { status: answer.status, headers: answer.headers });
    }
    const probed = request.method === 'GET' ? /\/(healthz|readyz)$/.exec(url.pathname)?.[1] : undefined;
    if (probed) {
      const { status, body } = await probe(kokyaku, probed as 'healthz' | 'readyz');
      return Response.json(body, { status });
    }
    if (request.method === 'GET' && url.pathname.endsWith('/metrics')) {
      const { status, contentType, body } = await metricsAnswer(kokyaku, await options.identify(request));
      return new Response(body, { status, headers: { 'content-type': contentType } });
    }
    const headers = new HeaderMap();
    request.headers.forEach((value, key) => headers.set(key, value));
    let body: unknown;
    if (request.method === 'POST') {
      const length = Number(request.headers.get('content-length') ?? 0);
      const tooLarge = () => Response.json(payloadTooLarge(limit).body, { status: 413 });
      if (length > limit) return tooLarge();
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (bytes.byteLength > limit) return tooLarge();
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        return Response.json(notUtf8().body, { status: 400 });
      }
      const type = request.headers.get('content-type') ?? '';
      if (type.includes('json')) {
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          return Response.json(notJson().body, { status: 400 });
        }
      } else {
        body = text;
      }
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method.toUpperCase(), headers, search: url.search, body },
      context: async () => createGraphQLContext(kokyaku, await options.identify(request)),
    });
    const responseHeaders = new Headers();
    for (const [key, value] of result.headers) responseHeaders.set(key, value);
    if (result.body.kind === 'complete') return new Response(result.body.string, { status: result.status ?? 200, headers: responseHeaders });
    // Incremental delivery (@defer): stream the chunks as Apollo writes them.
    const chunks = result.body.asyncIterator;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new TextEncoder().encode(next.value));
      },
    });
    return new Response(stream, { status: result.status ?? 200, headers: responseHeaders });
  }) as KokyakuFetchHandler;
  handler.stop = () => apollo.stop();
  return handler;
}
