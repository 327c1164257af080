import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { KokyakuError } from '@kokyaku/core';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context.js';
import { buildKokyakuSchema } from './schema/build.js';

export interface ApolloOptions {
  /**
   * Replace the message of unexpected errors with "Internal server error" (expected, coded
   * errors are always shown). Default: on when NODE_ENV is "production".
   */
  maskErrors?: boolean;
  /** Allow schema introspection. Default: off when NODE_ENV is "production". */
  introspection?: boolean;
  /** Where unexpected errors are logged (default console.error). */
  logError?: (error: unknown) => void;
  /** A schema to serve instead of a freshly built one (tests, schema extensions). */
  schema?: GraphQLSchema;
  plugins?: ApolloServerPlugin<GraphQLContext>[];
}

const production = () => process.env.NODE_ENV === 'production';

/** Maps errors to the public shape: coded errors keep their code; unknown ones are masked. */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  { mask, log }: { mask: boolean; log: (error: unknown) => void },
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof KokyakuError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...original.details, code: original.code },
    };
  }
  const code = formatted.extensions?.code;
  if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  log(original);
  if (!mask) return formatted;
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

export async function createApolloServer(options: ApolloOptions = {}): Promise<ApolloServer<GraphQLContext>> {
  const mask = options.maskErrors ?? production();
  const log = options.logError ?? ((error: unknown) => console.error('[kokyaku] unexpected error', error));
  const server = new ApolloServer<GraphQLContext>({
    schema: options.schema ?? (await buildKokyakuSchema()),
    introspection: options.introspection ?? !production(),
    includeStacktraceInErrorResponses: !mask,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // The host owns the process and its signals; it stops us through `stop()`.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatError(formatted, error, { mask, log }),
    plugins: [ApolloServerPluginLandingPageDisabled(), ...(options.plugins ?? [])],
  });
  await server.start();
  return server;
}
