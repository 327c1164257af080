import type { ApolloServerPlugin } from '@apollo/server';
import { mergeSchemas } from '@graphql-tools/schema';
import { MapperKind, mapSchema, renameType } from '@graphql-tools/utils';
import { KokyakuError, type Kokyaku } from '@kokyaku/core';
import {
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
} from 'graphql';
import { type GraphQLContext, type RequestIdentity, createGraphQLContext } from './context.js';
import { type Logger, createLogger } from './logger.js';
import { buildKokyakuSchema } from './schema/build.js';
import { AuditReadBuffer } from './security/audit-reads.js';
import { createCostLimiter } from './security/rate-limit.js';

export interface KokyakuHostSchemaOptions<HostContext extends object> {
  /** Who is calling, from the host's own GraphQL context (its session, its user). */
  identify: (context: HostContext) => RequestIdentity | Promise<RequestIdentity>;
  /** Put before every Kokyaku type name (default `Crm`: `Customer` becomes `CrmCustomer`). */
  prefix?: string;
  /** The field of `Query` and `Mutation` that holds Kokyaku's operations (default `crm`). */
  field?: string;
  /** Where unexpected errors are logged (JSON lines, personal fields redacted). */
  logger?: Logger;
  /** How long reads of personal data gather before they are written to the audit log (default 1000 ms). */
  auditFlushMs?: number;
}

export interface KokyakuHostSchema<HostContext extends object> {
  /**
   * Kokyaku's schema ready to merge: `Query.crm: CrmQuery!`, `Mutation.crm: CrmMutation!` and
   * every Kokyaku type prefixed. Its resolvers read the host's context.
   */
  schema: GraphQLSchema;
  /** The host's schema and Kokyaku's as one (graphql-tools `mergeSchemas`). */
  mergeInto(hostSchema: GraphQLSchema): GraphQLSchema;
  /** For Apollo Server hosts: writes the audit log of personal data read by each request. */
  apolloPlugin: ApolloServerPlugin<HostContext>;
  /** For other GraphQL servers: call when a request's response has been sent. */
  finish(context: HostContext): Promise<void>;
}

/**
 * Kokyaku inside a host's existing GraphQL schema, one that already has its own `Customer`,
 * `Product` and `Order` types. Every Kokyaku type is prefixed (`CrmCustomer`), and every Kokyaku
 * operation sits under one field (`query { crm { customer(externalId: "c-1") { ... } } }`), so no
 * name can collide. Access rules, masking and coded errors (`extensions.code`) work as in the
 * other mounts; query limits are the host server's.
 *
 * @example
 * const crm = await kokyakuHostSchema(kokyaku, { identify: (ctx: ShopContext) => ({ actor: ctx.staff }) });
 * const server = new ApolloServer({ schema: crm.mergeInto(shopSchema), plugins: [crm.apolloPlugin] });
 */
export async function kokyakuHostSchema<HostContext extends object>(kokyaku: Kokyaku, options: KokyakuHostSchemaOptions<HostContext>): Promise<KokyakuHostSchema<HostContext>> {
  const prefix = options.prefix ?? 'Crm';
  const field = options.field ?? 'crm';
  if (!/^[A-Z][A-Za-z0-9]*$/.test(prefix)) throw new Error(`kokyakuHostSchema: prefix "${prefix}" must be a GraphQL type name start (e.g. "Crm").`);
  if (!/^[a-z][A-Za-z0-9]*$/.test(field)) throw new Error(`kokyakuHostSchema: field "${field}" must be a GraphQL field name (e.g. "crm").`);
  const logger = options.logger ?? createLogger();
  const costLimiter = createCostLimiter();
  const audit = new AuditReadBuffer(logger, options.auditFlushMs);
  // Kokyaku's context of each host request, made when the request first reaches `crm`.
  const contexts = new WeakMap<object, GraphQLContext>();

  const contextOf = (host: object): GraphQLContext => {
    const context = contexts.get(host);
    if (!context) throw new Error(`kokyakuHostSchema: a Kokyaku field was resolved outside Query.${field} / Mutation.${field}.`);
    return context;
  };
  // Coded errors leave as GraphQL errors with their code, whatever the host's error formatting.
  const coded = (error: unknown): never => {
    if (error instanceof KokyakuError) throw new GraphQLError(error.message, { extensions: { ...error.details, code: error.code } });
    throw error;
  };
  const wrap =
    (resolve: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, object> =>
    (source, args, host, info) => {
      try {
        const value = resolve(source, args, contextOf(host), info);
        return value instanceof Promise ? value.catch(coded) : value;
      } catch (error) {
        return coded(error);
      }
    };
  const keep = (type: GraphQLNamedType) => isIntrospectionType(type) || isSpecifiedScalarType(type);

  const own = await buildKokyakuSchema({ plugins: kokyaku.plugins.plugins });
  const prefixed = mapSchema(own, {
    [MapperKind.OBJECT_FIELD]: (config) => (config.resolve ? { ...config, resolve: wrap(config.resolve as GraphQLFieldResolver<unknown, GraphQLContext>) } : config),
  });
  const renamed = mapSchema(prefixed, { [MapperKind.TYPE]: (type) => (keep(type) ? type : renameType(type, `${prefix}${type.name}`)) });
  const types = renamed.getTypeMap();
  const entry = (type: GraphQLNamedType | undefined, description: string) => {
    if (!isObjectType(type)) throw new Error(`kokyakuHostSchema: ${prefix} root type missing.`);
    return {
      type: new GraphQLNonNull(type),
      description,
      resolve: async (_source: unknown, _args: unknown, host: HostContext) => {
        if (!contexts.has(host)) {
          const context = createGraphQLContext(kokyaku, await options.identify(host));
          context.logger = logger;
          context.costLimiter = costLimiter;
          contexts.set(host, context);
        }
        return {};
      },
    };
  };
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { [field]: entry(types[`${prefix}Query`], 'The Kokyaku CRM.') } }),
    mutation: new GraphQLObjectType({ name: 'Mutation', fields: { [field]: entry(types[`${prefix}Mutation`], 'The Kokyaku CRM.') } }),
    types: Object.values(types).filter((t) => !keep(t)),
  });

  const finish = async (host: HostContext) => {
    const context = contexts.get(host);
    if (context?.personalReads?.size) await audit.add(kokyaku, context.core.tenantId, context.actor, context.personalReads, context.requestId);
  };
  return {
    schema,
    mergeInto: (hostSchema) => {
      for (const name of Object.keys(hostSchema.getTypeMap())) {
        if (name.startsWith(prefix) && types[name] && !keep(types[name]!)) {
          throw new Error(`kokyakuHostSchema: the host schema has a type "${name}" too; choose another prefix (kokyakuHostSchema(kokyaku, { prefix: "Kokyaku" })).`);
        }
      }
      for (const root of [hostSchema.getQueryType(), hostSchema.getMutationType()]) {
        if (root?.getFields()[field])
          throw new Error(`kokyakuHostSchema: the host's ${root.name} has a field "${field}" already; choose another (kokyakuHostSchema(kokyaku, { field: "kokyaku" })).`);
      }
      return mergeSchemas({ schemas: [hostSchema, schema] });
    },
    apolloPlugin: {
      async requestDidStart() {
        return {
          async willSendResponse({ contextValue }) {
            await finish(contextValue);
          },
        };
      },
      async serverWillStart() {
        return {
          async serverWillStop() {
            await audit.flush();
          },
        };
      },
    },
    finish,
  };
}
