import { Field, ID, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../shared/types.js';
import { Customer } from '../customers/types.js';
import { DateTimeScalar } from '../shared/scalars.js';

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
