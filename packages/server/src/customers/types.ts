import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../shared/types.js';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';
import { RfmScores } from '../analytics/types.js';

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
