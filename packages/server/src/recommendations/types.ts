import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Product } from '../catalog/types.js';

export enum RecommendationStrategy {
  FOR_CUSTOMER = 'FOR_CUSTOMER',
  BOUGHT_TOGETHER = 'BOUGHT_TOGETHER',
  SIMILAR = 'SIMILAR',
  POPULAR = 'POPULAR',
  TRENDING = 'TRENDING',
}
registerEnumType(RecommendationStrategy, {
  name: 'RecommendationStrategy',
  description: 'FOR_CUSTOMER: personal; BOUGHT_TOGETHER: in the same orders; SIMILAR: by buyers and attributes; POPULAR; TRENDING: rising.',
});

@ObjectType()
export class Recommendation {
  @Field(() => Product)
  product!: Product;

  @Field(() => Float)
  score!: number;

  @Field(() => String, { description: 'Why, in words a shopper understands ("Bought together with X in 37 orders").' })
  reason!: string;

  @Field(() => RecommendationStrategy, { description: 'The strategy asked for, or POPULAR for items filling a short list.' })
  strategy!: RecommendationStrategy;
}

@ObjectType()
export class RecommendationEvaluationRow {
  @Field(() => RecommendationStrategy)
  strategy!: RecommendationStrategy;

  @Field(() => Float, { nullable: true, description: 'FOR_CUSTOMER rows of a blend comparison: the popularity weight used.' })
  popularityWeight?: number | null;

  @Field(() => Float)
  hitRate!: number;

  @Field(() => Float)
  recall!: number;

  @Field(() => Float)
  ndcg!: number;

  @Field(() => Int)
  customers!: number;
}

@ObjectType({ description: "Offline evaluation on the shop's own history, each customer's last basket held out." })
export class RecommendationEvaluation {
  @Field(() => Int)
  k!: number;

  @Field(() => Int, { description: 'Customers whose history was replayed.' })
  replayedCustomers!: number;

  @Field(() => Int)
  eligibleCustomers!: number;

  @Field(() => Int)
  customers!: number;

  @Field(() => String)
  asOf!: string;

  @Field(() => [RecommendationEvaluationRow])
  rows!: RecommendationEvaluationRow[];
}
