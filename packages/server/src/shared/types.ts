import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Cursor pagination state of a list.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' })
  endCursor!: string | null;
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
