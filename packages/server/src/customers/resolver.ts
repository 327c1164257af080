import { type CustomerRef, KokyakuError, type Page } from '@kokyaku/core';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { CONTACT_DATA, READ_CUSTOMERS } from '../auth.js';
import { CustomerSearchConnection } from './search-types.js';
import type { GraphQLContext } from '../context.js';
import { Costly } from '../security/rate-limit.js';
import { JSONScalar } from '../shared/scalars.js';
import { Customer, CustomerConnection } from './types.js';
import { OrderConnection } from '../orders/types.js';
import { Segment } from '../segments/types.js';

/** One customer named by Kokyaku's id or the shop's: exactly one of the two. */
export function customerRef(id: string | null | undefined, externalId: string | null | undefined): CustomerRef {
  if ((id == null) === (externalId == null)) throw KokyakuError.badInput('Give exactly one of "id" or "externalId".');
  return id != null ? { id } : { externalId: externalId! };
}

export function connection<T>(page: Page<T>) {
  return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}

@Resolver(() => Customer)
export class CustomerResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => Customer, { nullable: true, description: "One customer's 360 view, by Kokyaku id or by the shop's id." })
  async customer(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ): Promise<Customer | null> {
    const ref = customerRef(id, externalId);
    const found = 'id' in ref ? await kokyaku.customers.findById(core, ref.id) : await kokyaku.customers.findByExternalId(core, ref.externalId);
    return found as Customer | null;
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly((args) => (args.segment != null ? 5 : 0)))
  @Query(() => CustomerConnection, { description: 'Customers, oldest first.' })
  async customers(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 0-500 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('segment', () => String, { nullable: true, description: 'Only the customers a segment query selects, e.g. "amount_spent >= 10000".' })
    segment?: string | null,
  ): Promise<CustomerConnection> {
    if (segment != null) {
      return { ...connection(await kokyaku.segments.customers(core, segment, { first, after })), segmentQuery: segment } as CustomerConnection;
    }
    return connection(await kokyaku.customers.list(core, { first, after })) as CustomerConnection;
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(2))
  @Query(() => CustomerSearchConnection, {
    description:
      'Finds customers from a fragment: a name in either order with or without a space (kanji, kana or Latin), a kana reading, an email or part of it, a phone number in any format or its last digits, or the shop id. Best matches first (an exact email or phone before a partial name). Callers without access to contact data (VIEWER) neither match on nor see email and phone.',
  })
  async searchCustomers(
    @Ctx() { kokyaku, core, actor }: GraphQLContext,
    @Arg('query', () => String) query: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1-50 (default 10).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<CustomerSearchConnection> {
    const personalData = actor?.roles.some((r) => CONTACT_DATA.includes(r)) ?? false;
    return connection(await kokyaku.customers.search(core, query, { first, after, personalData })) as CustomerSearchConnection;
  }

  @Authorized(CONTACT_DATA)
  @Mutation(() => Customer, {
    description:
      "Staff edits of one customer: `tags` replace the customer's tags, `customFields` are merged into its custom fields (null removes a key). Checked like upsertCustomers; the next write from the shop may change them again.",
  })
  async updateCustomer(
    @Ctx() { kokyaku, core, loaders }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('tags', () => [String], { nullable: true }) tags?: string[] | null,
    @Arg('customFields', () => JSONScalar, { nullable: true }) customFields?: Record<string, unknown> | null,
  ): Promise<Customer> {
    const updated = await kokyaku.customers.update(core, id, { ...(tags != null ? { tags } : {}), customFields: customFields ?? null });
    loaders.customer.clear(id).prime(id, updated);
    return updated as Customer;
  }

  @FieldResolver(() => [Segment], { description: 'The saved segments the customer is in.' })
  segments(@Root() customer: Customer, @Ctx() { loaders }: GraphQLContext): Promise<Segment[]> {
    return loaders.customerSegments.load(customer.id);
  }

  @FieldResolver(() => OrderConnection, { description: 'Orders of any status, newest first.' })
  async orders(
    @Root() customer: Customer,
    @Ctx() { loaders }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 0-500 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<OrderConnection> {
    const page = await loaders.customerOrders.load(JSON.stringify([customer.id, first ?? null, after ?? null]));
    return { ...connection(page), totalCount: page.totalCount } as OrderConnection;
  }
}

@Resolver(() => CustomerConnection)
export class CustomerConnectionResolver {
  @FieldResolver(() => Int, { description: 'Number of customers in the whole list (counted only when asked for).' })
  totalCount(@Root() list: CustomerConnection, @Ctx() { kokyaku, core }: GraphQLContext): Promise<number> {
    return list.segmentQuery != null ? kokyaku.segments.count(core, list.segmentQuery) : kokyaku.customers.count(core);
  }
}
