import 'reflect-metadata';
import { type GraphQLSchema, isObjectType, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, getMetadataStorage } from 'type-graphql';
import { authChecker } from '../auth.js';
import { AnalyticsResolver } from '../analytics/resolver.js';
import { RecommendationResolver } from '../recommendations/resolver.js';
import { CustomerConnectionResolver, CustomerResolver } from '../customers/resolver.js';
import { IngestionResolver } from '../ingestion/resolver.js';
import { OrderLineResolver, OrderResolver } from '../orders/resolver.js';
import { SegmentConnectionResolver, SegmentResolver } from '../segments/resolver.js';
import { PrivacyResolver } from '../privacy/resolver.js';
import { ImportResolver } from '../imports/resolver.js';
import { ViewerResolver } from '../viewer/resolver.js';
import { type AccessRule, FIELD_ACCESS, enforceFieldAccess } from '../security/access.js';
import { extendWithPlugin } from './plugins.js';
import type { KokyakuPlugin, Role } from '@kokyaku/core';
import { CompaniesResolver } from '../crm/companies.resolver.js';
import { DealsResolver } from '../crm/deals.resolver.js';
import { CustomFieldResolver } from '../crm/fields.resolver.js';
import { InquiriesResolver } from '../crm/inquiries.resolver.js';
import { CompanyContactResolver, CompanyResolver, CustomerCrmResolver, DealResolver, InquiryResolver } from '../crm/resolver.js';
import { ScoringResolver } from '../crm/scoring.resolver.js';
import { NotesTasksResolver } from '../crm/work.resolver.js';
import { CustomerAutomationResolver, JourneyResolver, JourneyRunResolver, MessagingResolver } from '../automation/resolver.js';
import { EmailMessageResolver, MailboxResolver } from '../mailbox/resolver.js';

export const resolvers = [
  ViewerResolver,
  CustomerResolver,
  CustomerConnectionResolver,
  OrderResolver,
  OrderLineResolver,
  IngestionResolver,
  SegmentResolver,
  SegmentConnectionResolver,
  AnalyticsResolver,
  RecommendationResolver,
  PrivacyResolver,
  ImportResolver,
  CustomFieldResolver,
  CompaniesResolver,
  DealsResolver,
  NotesTasksResolver,
  InquiriesResolver,
  ScoringResolver,
  CustomerCrmResolver,
  CompanyResolver,
  CompanyContactResolver,
  DealResolver,
  InquiryResolver,
  JourneyResolver,
  JourneyRunResolver,
  MessagingResolver,
  CustomerAutomationResolver,
  MailboxResolver,
  EmailMessageResolver,
] as const;

export interface SchemaOptions {
  /** Plugins whose `graphql` slot extends the schema (default none: the checked-in schema). */
  plugins?: readonly KokyakuPlugin[];
}

/**
 * Builds a new executable schema. Each server instance builds its own. Every field declares who
 * may read it (security/access.ts): building fails while one does not. Plugins' type definitions
 * are added on top, with their resolvers and access rules.
 */
export async function buildKokyakuSchema(options: SchemaOptions = {}): Promise<GraphQLSchema> {
  let schema = await buildSchema({
    resolvers,
    authChecker,
    authMode: 'error',
    validate: false,
  });
  resolvePlainFieldsDirectly(schema);
  const access: Record<string, Record<string, AccessRule>> = { ...FIELD_ACCESS };
  const roots = new Map<string, readonly Role[]>();
  for (const plugin of options.plugins ?? []) {
    if (plugin.graphql) schema = extendWithPlugin(schema, plugin, access, roots);
  }
  return enforceFieldAccess(schema, access, roots);
}

/**
 * type-graphql wraps every plain field (a property, no field resolver) in a resolver that builds
 * its middleware context on each call, for every field of every object of a response. Kokyaku's
 * plain fields declare neither roles nor middlewares (FIELD_ACCESS guards them, after the build),
 * so in Kokyaku's schema they resolve with graphql's default resolver: the property directly.
 * Only this schema changes: type-graphql's metadata, which a host's own type-graphql schema
 * shares, is left as it is.
 */
function resolvePlainFieldsDirectly(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  const resolved = new Set(storage.fieldResolvers.map((r) => `${r.getObjectType?.().name}.${r.schemaName}`));
  for (const meta of storage.objectTypes) {
    const type = schema.getType(meta.name);
    // A name two classes share (a host's type of the same name) is left wrapped.
    if (!isObjectType(type) || storage.objectTypes.filter((o) => o.name === meta.name).length > 1) continue;
    for (const field of meta.fields ?? []) {
      if (field.roles?.length || field.middlewares?.length || resolved.has(`${meta.target.name}.${field.schemaName}`)) continue;
      const built = type.getFields()[field.schemaName];
      if (built) built.resolve = undefined;
    }
  }
}

/** The SDL checked in as schema.graphql (sorted, so that it diffs cleanly). */
export async function printKokyakuSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildKokyakuSchema()))}\n`;
}
