import { isDatabaseOutage, readRouteOf } from '@kokyaku/core';
import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { type Kokyaku, KokyakuError } from '@kokyaku/core';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context.js';
import { type Logger, createLogger } from './logger.js';
import { buildKokyakuSchema } from './schema/build.js';
import { createCostLimiter } from './security/rate-limit.js';
import { AuditReadBuffer } from './security/audit-reads.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** Limits on one GraphQL document, enforced before it runs (GraphQL Armor). */
export interface QueryLimits {
  /** Deepest selection (default 10; a customer 360 with order lines and products is 6). */
  depth: number;
  /** Aliases per document (default 15). */
  aliases: number;
  /** Lexical tokens per document (default 5000). */
  tokens: number;
  /** Directives per document (default 20). */
  directives: number;
  /** Cost: 2 per object, 1 per scalar, growing 1.5x with depth (default 10000). */
  cost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { depth: 10, aliases: 15, tokens: 5000, directives: 20, cost: 10000 };

export interface ApolloOptions {
  /**
   * Replace the message of unexpected errors with "Internal server error" (expected, coded
   * errors are always shown). Default: on when NODE_ENV is "production".
   */
  maskErrors?: boolean;
  /** Allow schema introspection. Default: off when NODE_ENV is "production". */
  introspection?: boolean;
  /** Drop "Did you mean ...?" from validation errors. Default: on when NODE_ENV is "production". */
  blockFieldSuggestions?: boolean;
  limits?: Partial<QueryLimits>;
  /**
   * Budget of costly operations per actor and tenant (default: 600 points a minute, kept in the
   * database and shared by every server on it; `false` turns it off). See security/rate-limit.ts.
   */
  costLimiter?: RateLimiterAbstract | false;
  /** How long reads of personal data gather before they are written to the audit log (default 1000 ms; 0: before each response). */
  auditFlushMs?: number;
  /** Where requests' unexpected errors are logged (JSON lines, personal fields redacted). */
  logger?: Logger;
  /** A schema to serve instead of a freshly built one (tests, schema extensions). */
  schema?: GraphQLSchema;
  plugins?: ApolloServerPlugin<GraphQLContext>[];
}

const production = () => process.env.NODE_ENV === 'production';

/** Messages of GraphQL Armor's rejections, and the limit each names. */
const LIMIT_MESSAGES: [RegExp, keyof QueryLimits][] = [
  [/Query depth limit of/, 'depth'],
  [/Aliases limit of/, 'aliases'],
  [/Document contains more th(?:an|at) \d+ tokens/, 'tokens'],
  [/Directives limit of/, 'directives'],
  [/Query Cost limit of/, 'cost'],
];

export { isDatabaseOutage };

/** Maps errors to the public shape: coded errors keep their code; unknown ones are masked. */
export function formatError(formatted: GraphQLFormattedError, error: unknown, { mask }: { mask: boolean }): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof KokyakuError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...original.details, code: original.code },
    };
  }
  if (isDatabaseOutage(original)) {
    return {
      message: 'The database cannot be reached right now (it may be restarting). Nothing was changed; send the request again shortly.',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'DATABASE_UNAVAILABLE', retryable: true, retryAfterSeconds: 5 },
    };
  }
  const limit = LIMIT_MESSAGES.find(([pattern]) => pattern.test(formatted.message));
  if (limit) {
    return {
      message: formatted.message.replace(/^Syntax Error: /, ''),
      locations: formatted.locations,
      extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: limit[1] },
    };
  }
  const code = formatted.extensions?.code;
  if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  if (!mask) return formatted;
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/**
 * What a browser gets when it opens the endpoint (a GET that accepts HTML and asks no query):
 * a short page saying what this is and where the explorer is, instead of a CSRF error in JSON.
 * The explorer itself (`explorer: true`, `kokyaku serve --explorer`) takes its place when on.
 */
export const LANDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kokyaku GraphQL API</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}</style>
</head><body>
<h1>Kokyaku GraphQL API</h1>
<p>This address answers GraphQL requests: <code>POST</code> with a JSON body, for example</p>
<pre>curl -X POST &lt;this address&gt; -H 'content-type: application/json' \\
  -H 'authorization: Bearer &lt;token&gt;' -d '{"query":"{ customers(first: 5) { totalCount } }"}'</pre>
<p>To explore it in the browser, turn the explorer on: <code>kokyaku serve --explorer</code>, or the mount option
<code>explorer: true</code> (it needs the packages graphiql, react and react-dom). The typed client is <code>@kokyaku/client</code>.</p>
</body></html>`;

/** Serves LANDING_PAGE to browsers (Apollo's landing page hook), in place of Apollo's own. */
const landingPagePlugin: ApolloServerPlugin<GraphQLContext> = {
  async serverWillStart() {
    return {
      async renderLandingPage() {
        return { html: LANDING_PAGE };
      },
    };
  },
};

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/**
 * Gives every request an id (the caller's `x-request-id` when it is a plain token, else a new
 * UUID), answers it in the `x-request-id` header and in each error's `extensions.requestId`, and
 * logs unexpected errors with it: a masked error in a response can be found in the server log.
 */
function requestPlugin(logger: Logger, costLimiter: RateLimiterAbstract | undefined, audit: AuditReadBuffer): ApolloServerPlugin<GraphQLContext> {
  return {
    async serverWillStart() {
      return {
        async serverWillStop() {
          await audit.flush();
        },
      };
    },
    async requestDidStart({ request, contextValue }) {
      const given = request.http?.headers.get('x-request-id');
      const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
      const started = performance.now();
      contextValue.requestId = requestId;
      contextValue.costLimiter = costLimiter;
      contextValue.logger = logger;
      let wrote = false;
      // Metrics and the trace span: by the operation's first root field (the schema bounds it).
      let label = { operation: '(invalid)', type: 'unknown' };
      const span = contextValue.kokyaku.telemetry.tracer.startSpan('graphql', { attributes: { 'kokyaku.request_id': requestId } });
      return {
        async didResolveOperation({ operation, contextValue: context }) {
          const first = operation?.selectionSet.selections.find((s) => s.kind === 'Field');
          label = { operation: first?.kind === 'Field' ? first.name.value : '(none)', type: operation?.operation ?? 'unknown' };
          span.updateName(`graphql ${label.type} ${label.operation}`);
          span.setAttributes({ 'graphql.operation.type': label.type, 'graphql.operation.field': label.operation });
          // A mutation writes: all of it on the primary, and the actor's later reads from a
          // replica wait for the write (kokyaku.wrote, below).
          if (operation?.operation !== 'query') {
            wrote = true;
            const route = readRouteOf(context.core.em);
            if (route) route.enabled = false;
          }
        },
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof KokyakuError) continue;
            const code = error.extensions?.code;
            if (code && code !== 'INTERNAL_SERVER_ERROR') continue;
            // An outage is the database's state, not a bug of the request: one line, no stack.
            if (isDatabaseOutage(original))
              logger.warn(
                {
                  requestId,
                  operationName,
                  reason: String((original as Error).message)
                    .split(' - ')
                    .at(-1),
                },
                'database unavailable',
              );
            else logger.error({ requestId, operationName, path: error.path, err: original }, 'unexpected error');
          }
        },
        async willSendResponse({ response, contextValue: context, operationName, errors }) {
          const { telemetry } = context.kokyaku;
          telemetry.requestSeconds.observe(label, (performance.now() - started) / 1000);
          telemetry.requests.inc({ ...label, outcome: errors?.length ? 'error' : 'ok' });
          if (errors?.length) span.setStatus({ code: 2 /* SpanStatusCode.ERROR */, message: errors[0]!.message });
          span.end();
          if (wrote && context.kokyaku.replicas)
            await context.kokyaku.wrote(context.core).catch((error) => logger.warn({ requestId, err: error }, 'could not read the write position'));
          response.http.headers.set('x-request-id', requestId);
          // Answers carry personal data: never stored by a browser or a proxy.
          response.http.headers.set('cache-control', 'no-store');
          // One line per request: who, what, how long. Never the variables (they carry personal data).
          logger.info(
            {
              requestId,
              tenantId: context.core.tenantId,
              actorId: context.actor?.id ?? null,
              operationName: operationName ?? null,
              ms: Math.round(performance.now() - started),
              errors: errors?.length ?? 0,
            },
            'graphql request',
          );
          if (context.personalReads?.size) {
            await audit.add(context.kokyaku, context.core.tenantId, context.actor, context.personalReads, requestId);
          }
          if (response.body.kind === 'single') {
            for (const error of response.body.singleResult.errors ?? []) {
              (error as { extensions?: Record<string, unknown> }).extensions = { ...error.extensions, requestId };
            }
          }
        },
      };
    },
  };
}

/** The Apollo server of a mount. Without `options.schema`, it serves Kokyaku's schema with the GraphQL fields of `kokyaku`'s plugins. */
export async function createApolloServer(options: ApolloOptions = {}, kokyaku?: Kokyaku): Promise<ApolloServer<GraphQLContext>> {
  const mask = options.maskErrors ?? production();
  const logger = options.logger ?? createLogger();
  const limits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  const armor = new ApolloArmor({
    maxDepth: { n: limits.depth, exposeLimits: true, ignoreIntrospection: true },
    maxAliases: { n: limits.aliases, exposeLimits: true },
    // Counted by graphql's own parser (parseOptions below): Armor's token plugin does not stop
    // Apollo Server 5 from parsing and validating the document anyway.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.directives, exposeLimits: true },
    costLimit: { maxCost: limits.cost, exposeLimits: true, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions ?? production() },
  }).protect();
  const server = new ApolloServer<GraphQLContext>({
    schema: options.schema ?? (await buildKokyakuSchema({ plugins: kokyaku?.plugins.plugins })),
    introspection: options.introspection ?? !production(),
    includeStacktraceInErrorResponses: !mask,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // The host owns the process and its signals; it stops us through `stop()`.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.tokens },
    validationRules: armor.validationRules,
    formatError: (formatted, error) => formatError(formatted, error, { mask }),
    plugins: [
      // Kokyaku sets no cache hints: Apollo's default cache-control plugin would only wrap every
      // field resolver of every request (about a fifth of a customer360 request's allocations) to
      // arrive at `cache-control: no-store`, which requestPlugin sets once per response.
      ApolloServerPluginCacheControlDisabled(),
      landingPagePlugin,
      requestPlugin(logger, options.costLimiter === false ? undefined : (options.costLimiter ?? createCostLimiter({ kokyaku })), new AuditReadBuffer(logger, options.auditFlushMs)),
      ...(armor.plugins as ApolloServerPlugin<GraphQLContext>[]),
      ...(options.plugins ?? []),
    ],
  });
  await server.start();
  return server;
}
