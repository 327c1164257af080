import type { CustomerInput as CoreCustomerInput, EventInput as CoreEventInput, OrderInput as CoreOrderInput, ProductInput as CoreProductInput } from '@kokyaku/core';
import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { INGEST } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { BatchResult } from '../shared/types.js';
import { CustomerInput } from '../customers/types.js';
import { EventInput } from './types.js';
import { OrderInput } from '../orders/types.js';
import { ProductInput } from '../catalog/types.js';

/**
 * type-graphql hands inputs over as class instances; core validates plain objects. Only the
 * input classes are copied: JSON values (customFields, properties) are plain already and go to
 * core's validation as they came, however deep (a JSON round trip overflowed the stack on a value
 * nested 5,000 levels, before core could refuse it).
 */
function plain<T>(items: readonly object[]): T[] {
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (value === null || typeof value !== 'object' || value instanceof Date || Object.getPrototypeOf(value) === Object.prototype) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, copy(v)]),
    );
  };
  return items.map((item) => copy(item) as T);
}

@Resolver()
export class IngestionResolver {
  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Create or update products by their shop id.' })
  upsertProducts(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('products', () => [ProductInput]) products: ProductInput[]): Promise<BatchResult> {
    return kokyaku.products.upsert(core, plain<CoreProductInput>(products));
  }

  @Authorized(INGEST)
  @Mutation(() => BatchResult, { description: 'Create or update customers by their shop id.' })
  upsertCustomers(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('customers', () => [CustomerInput]) customers: CustomerInput[]): Promise<BatchResult> {
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
