import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../shared/types.js';
import { DateTimeScalar } from '../shared/scalars.js';

export enum OrderStatus {
  PLACED = 'PLACED',
  CANCELLED = 'CANCELLED',
}

registerEnumType(OrderStatus, {
  name: 'OrderStatus',
  description: 'PLACED counts in metrics; CANCELLED orders count for nothing.',
});

@ObjectType({ description: 'One line of an order.' })
export class OrderLine {
  @Field(() => Int)
  quantity!: number;

  @Field(() => Float, { description: 'Unit price in major units of the order currency.' })
  unitPrice!: number;

  @Field(() => Float, { description: 'quantity x unitPrice.' })
  total!: number;

  productId!: string;
}

@ObjectType({ description: 'An order, mirrored from the shop by its own id.' })
export class Order {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The shop's id of the order." })
  externalId!: string;

  @Field(() => DateTimeScalar)
  placedAt!: Date;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => String)
  currency!: string;

  @Field(() => Float, { description: 'Sum of quantity x unitPrice over the lines, in major units.' })
  total!: number;

  customerId!: string;
}

@ObjectType()
export class OrderConnection {
  @Field(() => [Order])
  nodes!: Order[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class OrderLineInput {
  @Field(() => String)
  productExternalId!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => Float, { description: 'Major units of the order currency.' })
  unitPrice!: number;
}

@InputType({ description: 'An order; recording it again with the same id replaces it (e.g. to cancel).' })
export class OrderInput {
  @Field(() => String)
  externalId!: string;

  @Field(() => String)
  customerExternalId!: string;

  @Field(() => DateTimeScalar)
  placedAt!: string;

  @Field(() => String, { nullable: true, description: 'ISO 4217; defaults to the shop currency.' })
  currency?: string | null;

  @Field(() => OrderStatus, { nullable: true, defaultValue: OrderStatus.PLACED })
  status?: OrderStatus | null;

  @Field(() => [OrderLineInput])
  lines!: OrderLineInput[];
}
