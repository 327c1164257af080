import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { Customer } from '../customers/types.js';
import { Order, OrderLine } from './types.js';
import { Product } from '../catalog/types.js';

@Resolver(() => Order)
export class OrderResolver {
  @FieldResolver(() => [OrderLine])
  lines(@Root() order: Order, @Ctx() { loaders }: GraphQLContext): Promise<OrderLine[]> {
    return loaders.orderLines.load(order.id);
  }

  @FieldResolver(() => Customer)
  async customer(@Root() order: Order, @Ctx() { loaders }: GraphQLContext): Promise<Customer> {
    return (await loaders.customer.load(order.customerId)) as Customer;
  }
}

@Resolver(() => OrderLine)
export class OrderLineResolver {
  @FieldResolver(() => Product)
  async product(@Root() line: OrderLine, @Ctx() { loaders }: GraphQLContext): Promise<Product> {
    return (await loaders.product.load(line.productId)) as Product;
  }
}
