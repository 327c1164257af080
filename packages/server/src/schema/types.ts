import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { RfmScores } from './analytics-types.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

export enum OrderStatus {
  PLACED = 'PLACED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(OrderStatus, {
  name: 'OrderStatus',
  description: 'PLACED counts in metrics; CANCELLED orders count for nothing.',
});

@ObjectType({ description: 'Cursor pagination state of a list.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' })
  endCursor!: string | null;
}

@ObjectType({ description: 'A product, mirrored from the shop by its own id.' })
export class Product {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The shop's id of the product." })
  externalId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Float, { nullable: true, description: 'Price in major units of `currency`.' })
  price!: number | null;

  @Field(() => String)
  currency!: string;

  @Field(() => [String])
  categories!: string[];

  @Field(() => [String])
  tags!: string[];

  @Field(() => Boolean)
  inStock!: boolean;

  @Field(() => Boolean, { description: 'True while only orders or events have named this product.' })
  placeholder!: boolean;
}

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

@ObjectType({ description: "Figures derived from the customer's orders; cancelled orders never count." })
export class CustomerMetrics {
  @Field(() => Int)
  ordersCount!: number;

  @Field(() => Float, { description: 'Sum of placed orders, in major units of the shop currency.' })
  totalSpent!: number;

  @Field(() => Float)
  averageOrderValue!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  firstOrderAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastOrderAt!: Date | null;

  @Field(() => Float, { nullable: true, description: 'Days from the first to the last order / (orders - 1); null below two orders.' })
  averageDaysBetweenOrders!: number | null;

  @Field(() => Boolean, { description: 'Two or more placed orders.' })
  isRepeatCustomer!: boolean;

  @Field(() => RfmScores)
  rfm!: RfmScores;

  @Field(() => Int, { nullable: true, description: 'Spend decile over everyone who ordered, 1 = top 10%.' })
  decile!: number | null;

  @Field(() => Float, { nullable: true, description: 'Predicted spend over the CLV horizon (BG/NBD x Gamma-Gamma); null until fitted.' })
  predictedClv!: number | null;

  @Field(() => Float, { nullable: true, description: '1 - probabilityAlive.' })
  churnRisk!: number | null;

  @Field(() => Float, { nullable: true, description: 'P(alive) under BG/NBD.' })
  probabilityAlive!: number | null;

  @Field(() => Float, { nullable: true, description: 'Expected purchases over the CLV horizon.' })
  expectedPurchases!: number | null;

  @Field(() => String, { description: 'The shop currency the amounts are in.' })
  currency!: string;
}

@ObjectType({ description: 'A customer of the shop: who they are, and everything derived from what they did.' })
export class Customer {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The shop's id of the customer." })
  externalId!: string;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true, description: 'E.164, e.g. +819012345678.' })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  firstName!: string | null;

  @Field(() => String, { nullable: true })
  lastName!: string | null;

  @Field(() => String, { nullable: true, description: 'Reading of the given name in kana (フリガナ).' })
  firstNameKana!: string | null;

  @Field(() => String, { nullable: true, description: 'Reading of the family name in kana (フリガナ).' })
  lastNameKana!: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  birthday!: string | null;

  @Field(() => String, { nullable: true })
  city!: string | null;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => String, { nullable: true })
  country!: string | null;

  @Field(() => [String])
  tags!: string[];

  @Field(() => JSONScalar)
  customFields!: Record<string, unknown>;

  @Field(() => Boolean)
  emailConsent!: boolean;

  @Field(() => String, { nullable: true, description: 'LINE user id, for LINE messages.' })
  lineUserId!: string | null;

  @Field(() => String, { nullable: true, description: 'EMAIL, LINE or SMS: the channel PREFERRED sends try first.' })
  preferredChannel!: string | null;

  @Field(() => Boolean, { description: 'True while only orders or events have named this customer.' })
  placeholder!: boolean;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When a privacy request erased the customer (every personal field is then empty).' })
  erasedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Since when the customer objects to marketing (no marketing goes to them).' })
  marketingObjectionAt!: Date | null;

  @Field(() => CustomerMetrics)
  metrics!: CustomerMetrics;
}

@ObjectType()
export class CustomerConnection {
  @Field(() => [Customer])
  nodes!: Customer[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** The segment query the list was filtered by, for totalCount. */
  segmentQuery?: string | null;
}

@ObjectType({ description: 'A saved segment: a named segment query whose members Kokyaku keeps current.' })
export class Segment {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The segment query (see docs/segments.md).' })
  query!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}

@ObjectType()
export class SegmentConnection {
  @Field(() => [Segment])
  nodes!: Segment[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'What a segment query selects right now.' })
export class SegmentPreview {
  @Field(() => Int)
  count!: number;

  @Field(() => [Customer], { description: 'The first customers, oldest first.' })
  customers!: Customer[];
}

@ObjectType({ description: 'One rejected item of a batch.' })
export class BatchItemError {
  @Field(() => Int, { description: '0-based position of the item in the batch.' })
  index!: number;

  @Field(() => String, { description: 'Path of the offending field, e.g. `email` or `lines[2].quantity`.' })
  field!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, { nullable: true, description: "The item's shop id, when it had one." })
  externalId?: string;
}

@ObjectType({ description: 'What a batch did: created + updated + unchanged + failed = received.' })
export class BatchResult {
  @Field(() => Int)
  received!: number;

  @Field(() => Int)
  created!: number;

  @Field(() => Int)
  updated!: number;

  @Field(() => Int, { description: 'Valid items that changed nothing (already known, or repeated in the batch).' })
  unchanged!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => [BatchItemError])
  errors!: BatchItemError[];
}

@InputType({ description: 'A product; fields left out keep their stored value, null clears them.' })
export class ProductInput {
  @Field(() => String)
  externalId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Float, { nullable: true, description: 'Major units of the shop currency.' })
  price?: number | null;

  @Field(() => [String], { nullable: true })
  categories?: string[] | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => Boolean, { nullable: true })
  inStock?: boolean | null;
}

@InputType({ description: 'A customer; fields left out keep their stored value, null clears them.' })
export class CustomerInput {
  @Field(() => String)
  externalId!: string;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Any common format; stored as E.164.' })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true, description: 'Reading of the given name in kana (フリガナ), for search by name as spoken.' })
  firstNameKana?: string | null;

  @Field(() => String, { nullable: true, description: 'Reading of the family name in kana.' })
  lastNameKana?: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  birthday?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true })
  region?: string | null;

  @Field(() => String, { nullable: true })
  country?: string | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Merged into the stored fields; a key set to null is removed.' })
  customFields?: Record<string, unknown> | null;

  @Field(() => Boolean, { nullable: true })
  emailConsent?: boolean | null;

  @Field(() => String, { nullable: true, description: 'LINE user id ("U" and 32 hexadecimal digits).' })
  lineUserId?: string | null;

  @Field(() => String, { nullable: true, description: 'EMAIL, LINE or SMS.' })
  preferredChannel?: 'EMAIL' | 'LINE' | 'SMS' | null;
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

@InputType({ description: 'A storefront event; idempotent on eventId.' })
export class EventInput {
  @Field(() => String)
  eventId!: string;

  @Field(() => String, { description: 'e.g. product_viewed, added_to_cart' })
  type!: string;

  @Field(() => String, { nullable: true })
  customerExternalId?: string | null;

  @Field(() => String, { nullable: true })
  productExternalId?: string | null;

  @Field(() => DateTimeScalar)
  occurredAt!: string;

  @Field(() => JSONScalar, { nullable: true })
  properties?: Record<string, unknown> | null;
}
