import 'reflect-metadata';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { authChecker } from '../auth.js';
import { AnalyticsResolver } from '../resolvers/analytics.resolver.js';
import { RecommendationResolver } from '../resolvers/recommendation.resolver.js';
import { CustomerConnectionResolver, CustomerResolver } from '../resolvers/customer.resolver.js';
import { IngestionResolver } from '../resolvers/ingestion.resolver.js';
import { OrderLineResolver, OrderResolver } from '../resolvers/order.resolver.js';
import { SegmentConnectionResolver, SegmentResolver } from '../resolvers/segment.resolver.js';
import { PrivacyResolver } from '../resolvers/privacy.resolver.js';
import { ImportResolver } from '../resolvers/import.resolver.js';
import { enforceFieldAccess } from '../security/access.js';
import { CompanyContactResolver, CompanyResolver, CrmResolver, CustomerCrmResolver, DealResolver, InquiryResolver } from '../resolvers/crm.resolver.js';
import { CustomerAutomationResolver, JourneyResolver, JourneyRunResolver, MessagingResolver } from '../resolvers/automation.resolver.js';

export const resolvers = [
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
  CrmResolver,
  CustomerCrmResolver,
  CompanyResolver,
  CompanyContactResolver,
  DealResolver,
  InquiryResolver,
  JourneyResolver,
  JourneyRunResolver,
  MessagingResolver,
  CustomerAutomationResolver,
] as const;

/**
 * Builds a new executable schema. Each server instance builds its own. Every field declares who
 * may read it (security/access.ts): building fails while one does not.
 */
export async function buildKokyakuSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    authChecker,
    authMode: 'error',
    validate: false,
  });
  return enforceFieldAccess(schema);
}

/** The SDL checked in as schema.graphql (sorted, so that it diffs cleanly). */
export async function printKokyakuSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildKokyakuSchema()))}\n`;
}
