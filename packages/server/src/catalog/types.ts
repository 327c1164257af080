import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';

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
