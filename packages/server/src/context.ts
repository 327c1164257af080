import type {
  Actor,
  CompanyContact,
  CompanyRecord,
  CustomFieldDefinition,
  CustomFieldEntity,
  CustomerRecord,
  InquiryMessage,
  LeadScore,
  Kokyaku,
  KokyakuContext,
  OrderLineRecord,
  OrderRecord,
  Page,
  ProductRecord,
  SegmentRecord,
} from '@kokyaku/core';
import DataLoader from 'dataloader';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from './logger.js';

/** What the host tells Kokyaku about a request: who calls, for which tenant. */
export interface RequestIdentity {
  actor: Actor | null;
  /** Defaults to the configured default tenant. */
  tenantId?: string;
}

export interface Loaders {
  customer: DataLoader<string, CustomerRecord | null>;
  product: DataLoader<string, ProductRecord | null>;
  /** Key: JSON of [customerId, first, after]. */
  customerOrders: DataLoader<string, Page<OrderRecord> & { totalCount: number }>;
  orderLines: DataLoader<string, OrderLineRecord[]>;
  customerSegments: DataLoader<string, SegmentRecord[]>;
  leadScore: DataLoader<string, LeadScore>;
  company: DataLoader<string, CompanyRecord | null>;
  /** Companies a customer is a contact of, by customer id. */
  customerCompanies: DataLoader<string, CompanyContact[]>;
  /** Contacts of a company, by company id. */
  companyContacts: DataLoader<string, CompanyContact[]>;
  /** Ids of the orders linked to a deal, by deal id. */
  dealOrders: DataLoader<string, string[]>;
  inquiryMessages: DataLoader<string, InquiryMessage[]>;
  /** The custom field definitions of an entity (once per request). */
  customFieldDefinitions: DataLoader<CustomFieldEntity, CustomFieldDefinition[]>;
}

/** The GraphQL context of one request. Built fresh per request: never share loaders across requests. */
export interface GraphQLContext {
  kokyaku: Kokyaku;
  core: KokyakuContext;
  actor: Actor | null;
  loaders: Loaders;
  /** Set for each request; appears in the log and in errors' `extensions.requestId`. */
  requestId?: string;
  /** Budget of costly operations per actor (see security/rate-limit.ts); none: unlimited. */
  costLimiter?: RateLimiterAbstract;
  /** The server's logger (set for each request). */
  logger?: Logger;
  /** Personal fields this request showed, per customer id: audited when the response is sent. */
  personalReads?: Map<string, Set<string>>;
  /** Batching loaders of plugins' resolvers, made on first use for this request only. */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<readonly V[]>): DataLoader<K, V>;
}

function byKey<V>(keys: readonly string[], found: Map<string, V>, missing: V): V[] {
  return keys.map((k) => found.get(k) ?? missing);
}

export function createLoaders(kokyaku: Kokyaku, core: KokyakuContext): Loaders {
  const product: Loaders['product'] = new DataLoader(async (ids) => byKey(ids, await kokyaku.products.findByIds(core, ids), null));
  return {
    customer: new DataLoader(async (ids) => byKey(ids, await kokyaku.customers.findByIds(core, ids), null)),
    product,
    customerOrders: new DataLoader(async (keys) => {
      // One statement per distinct page shape; a list of customers asks for one shape.
      const groups = new Map<string, { first: number | null; after: string | null; ids: string[] }>();
      for (const key of keys) {
        const [customerId, first, after] = JSON.parse(key) as [string, number | null, string | null];
        const shape = JSON.stringify([first, after]);
        const group = groups.get(shape) ?? { first, after, ids: [] };
        group.ids.push(customerId);
        groups.set(shape, group);
      }
      const pages = new Map<string, Page<OrderRecord> & { totalCount: number }>();
      for (const [shape, group] of groups) {
        const result = await kokyaku.orders.listForCustomers(core, group.ids, { first: group.first, after: group.after });
        for (const [customerId, page] of result) pages.set(JSON.stringify([customerId, ...JSON.parse(shape)]), page);
      }
      return keys.map((k) => pages.get(k)!);
    }),
    orderLines: new DataLoader(async (ids) => {
      const lines = await kokyaku.orders.linesForOrders(core, ids);
      // Lines come with their products: a later `product` of a line costs no statement.
      for (const list of lines.values()) for (const line of list) product.prime(line.productId, line.product);
      return byKey(ids, lines, []);
    }),
    customerSegments: new DataLoader(async (ids) => byKey(ids, await kokyaku.segments.segmentsOfCustomers(core, ids), [])),
    leadScore: new DataLoader(async (ids) => {
      const scores = await kokyaku.scoring.scores(core, ids);
      return ids.map((id) => scores.get(id)!);
    }),
    company: new DataLoader(async (ids) => byKey(ids, await kokyaku.companies.findByIds(core, ids), null)),
    customerCompanies: new DataLoader(async (ids) => byKey(ids, await kokyaku.companies.companiesOfCustomers(core, ids), [])),
    companyContacts: new DataLoader(async (ids) => byKey(ids, await kokyaku.companies.contactsOf(core, ids), [])),
    dealOrders: new DataLoader(async (ids) => byKey(ids, await kokyaku.deals.ordersOf(core, ids), [])),
    inquiryMessages: new DataLoader(async (ids) => byKey(ids, await kokyaku.inquiries.messages(core, ids), [])),
    customFieldDefinitions: new DataLoader(async (entities) => {
      const all = await kokyaku.customFields.list(core);
      return entities.map((e) => all.filter((d) => d.entity === e));
    }),
  };
}

export function createGraphQLContext(kokyaku: Kokyaku, identity: RequestIdentity): GraphQLContext {
  // Reads may go to a read replica; a mutation turns that off before it runs (apollo.ts).
  const core = kokyaku.context({ tenantId: identity.tenantId, actor: identity.actor, reads: 'replica' });
  const pluginLoaders = new Map<string, DataLoader<unknown, unknown>>();
  return {
    kokyaku,
    core,
    actor: identity.actor,
    loaders: createLoaders(kokyaku, core),
    loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<readonly V[]>): DataLoader<K, V> {
      let loader = pluginLoaders.get(name);
      if (!loader) pluginLoaders.set(name, (loader = new DataLoader(batch as (keys: readonly unknown[]) => Promise<readonly unknown[]>)));
      return loader as DataLoader<K, V>;
    },
  };
}
