import type { CustomerInput as CoreCustomerInput, EventInput as CoreEventInput, OrderInput as CoreOrderInput, ProductInput as CoreProductInput } from '@kokyaku/core';
import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { INGEST } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { BatchResult, CustomerInput, EventInput, OrderInput, ProductInput } from '../schema/types.js';

/** type-graphql hands inputs over as class instances; core validates plain objects. */
function plain<T>(items: readonly object[]): T[] {
  return items.map((item) => JSON.parse(JSON.stringify(item)) as T);
}

@Resolver()
export class IngestionResolver {
  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Create or update products by their shop id.' })
  upsertProducts(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('products', () => [ProductInput]) products: ProductInput[],
  ): Promise<BatchResult> {
    return kokyaku.products.upsert(core, plain<CoreProductInput>(products));
  }

  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Create or update customers by their shop id.' })
  upsertCustomers(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('customers', () => [CustomerInput]) customers: CustomerInput[],
  ): Promise<BatchResult> {
    return kokyaku.customers.upsert(core, plain<CoreCustomerInput>(customers));
  }

  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Record orders by their shop id; recording one again with a new status updates it.' })
  recordOrders(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('orders', () => [OrderInput]) orders: OrderInput[]): Promise<BatchResult> {
    return kokyaku.orders.record(core, plain<CoreOrderInput>(orders));
  }

  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Store storefront events; idempotent on eventId.' })
  trackEvents(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('events', () => [EventInput]) events: EventInput[]): Promise<BatchResult> {
    return kokyaku.events.track(core, plain<CoreEventInput>(events));
  }
}
