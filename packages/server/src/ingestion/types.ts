import { Field, InputType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';

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
