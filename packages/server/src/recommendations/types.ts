import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Product } from '../catalog/types.js';

export enum RecommendationStrategy {
  FOR_CUSTOMER = 'FOR_CUSTOMER',
  BUY_AGAIN = 'BUY_AGAIN',
  BOUGHT_TOGETHER = 'BOUGHT_TOGETHER',
  SIMILAR = 'SIMILAR',
  POPULAR = 'POPULAR',
  TRENDING = 'TRENDING',
}
registerEnumType(RecommendationStrategy, {
  name: 'RecommendationStrategy',
  description:
    "FOR_CUSTOMER: personal (buy again and explore, blended with popularity per shop); BUY_AGAIN: the customer's purchases coming due, with dates; BOUGHT_TOGETHER: in the same orders; SIMILAR: by buyers and attributes; POPULAR; TRENDING: rising.",
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

  @Field(() => String, {
    nullable: true,
    description:
      "BUY_AGAIN, and FOR_CUSTOMER items bought before: the day (YYYY-MM-DD, shop time) the customer is expected to buy it again (their own interval, or after one purchase the product's repurchase cycle).",
  })
  dueOn?: string | null;
}

@ObjectType({ description: 'Hit rate, recall and NDCG at k over one part of the held-out items.' })
export class RecommendationEvaluationScores {
  @Field(() => Float, { description: 'Share of customers with a held-out item of this part in the top k.' })
  hitRate!: number;

  @Field(() => Float, { description: "Mean share of each customer's held-out items found in the top k (repeat + explore = all)." })
  recall!: number;

  @Field(() => Float, { description: 'Mean NDCG at k, binary relevance (repeat + explore = all).' })
  ndcg!: number;
}

/**
 * What every row of an evaluation measures: the scores over all held-out items, and over each part.
 * Only its subclasses reach the schema.
 */
@ObjectType()
abstract class MeasuredRow extends RecommendationEvaluationScores {
  @Field(() => Int)
  customers!: number;

  @Field(() => RecommendationEvaluationScores, { description: 'Counting only held-out items the customer had bought before.' })
  repeat!: RecommendationEvaluationScores;

  @Field(() => RecommendationEvaluationScores, { description: 'Counting only held-out items new to the customer.' })
  explore!: RecommendationEvaluationScores;
}

@ObjectType()
export class RecommendationEvaluationRow extends MeasuredRow {
  @Field(() => RecommendationStrategy)
  strategy!: RecommendationStrategy;

  @Field(() => Float, { nullable: true, description: 'FOR_CUSTOMER rows of a blend comparison: the popularity weight used.' })
  popularityWeight?: number | null;

  @Field(() => Float, { nullable: true, description: 'FOR_CUSTOMER rows of a blend comparison: the repeat weight used.' })
  repeatWeight?: number | null;

  @Field(() => Boolean, { nullable: true, description: "FOR_CUSTOMER rows of a blend comparison: whether the customer's own rhythms held items back." })
  cycles?: boolean | null;
}

export enum RecommendationBaseline {
  G_TOPFREQ = 'G_TOPFREQ',
  P_TOPFREQ = 'P_TOPFREQ',
  GP_TOPFREQ = 'GP_TOPFREQ',
  ITEM_KNN = 'ITEM_KNN',
}
registerEnumType(RecommendationBaseline, {
  name: 'RecommendationBaseline',
  description:
    "The next-basket literature's baselines: G_TOPFREQ the most bought items; P_TOPFREQ the customer's own most bought; GP_TOPFREQ the latter filled with the former; ITEM_KNN the items most similar to the customer's purchases.",
});

@ObjectType()
export class RecommendationBaselineRow extends MeasuredRow {
  @Field(() => RecommendationBaseline)
  baseline!: RecommendationBaseline;
}

@ObjectType({ description: "The shop's FOR_CUSTOMER blend, and why: the comparison it was chosen from." })
export class RecommendationBlend {
  @Field(() => Float, { description: "The prior of popularity against the customer's own frequency (0: their own, 1: popularity alone)." })
  popularityWeight!: number;

  @Field(() => Float, { description: "The customer's own frequency against the neighbours of what they did." })
  repeatWeight!: number;

  @Field(() => Boolean, { description: "Whether the customer's own rhythms hold items back until they come round." })
  cycles!: boolean;

  @Field(() => String, { nullable: true, description: 'When the refresh measured it (null while configured or not measured yet).' })
  measuredAt?: string | null;

  @Field(() => [RecommendationEvaluationRow], { description: 'Every blend the measurement compared, on its own sample of customers.' })
  rows!: RecommendationEvaluationRow[];
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

  @Field(() => String, { description: 'The end of the training history (each customer is recommended to just before their held-out basket).' })
  asOf!: string;

  @Field(() => Float, { description: 'Share of the held-out items the customer had bought before.' })
  repeatShare!: number;

  @Field(() => [RecommendationEvaluationRow])
  rows!: RecommendationEvaluationRow[];

  @Field(() => [RecommendationBaselineRow])
  baselines!: RecommendationBaselineRow[];

  @Field(() => RecommendationBlend)
  blend!: RecommendationBlend;
}
