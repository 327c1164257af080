import { KokyakuError, type Role } from '@kokyaku/core';
import { Arg, Authorized, Ctx, Float, Int, Query, Resolver, UseMiddleware } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Costly } from '../security/rate-limit.js';
import { Recommendation, RecommendationEvaluation, RecommendationStrategy } from './types.js';

const RECOMMEND: Role[] = [...READ_CUSTOMERS, 'STOREFRONT'];

@Resolver()
export class RecommendationResolver {
  @Authorized(RECOMMEND)
  @Query(() => [Recommendation], {
    description:
      'Products to show: with a product, BOUGHT_TOGETHER by default; with a customer, FOR_CUSTOMER; else POPULAR. BUY_AGAIN lists what the customer is due to buy again within windowDays (default 7). A STOREFRONT caller gets recommendations for its signed-in customer only.',
  })
  recommendations(
    @Ctx() { kokyaku, core, actor }: GraphQLContext,
    @Arg('customerExternalId', () => String, { nullable: true }) customerExternalId?: string | null,
    @Arg('productExternalId', () => String, { nullable: true }) productExternalId?: string | null,
    @Arg('strategy', () => RecommendationStrategy, { nullable: true }) strategy?: RecommendationStrategy | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first?: number | null,
    @Arg('category', () => String, { nullable: true }) category?: string | null,
    @Arg('excludePurchased', () => Boolean, { nullable: true, description: 'Default: decided per category from how often items are bought again.' })
    excludePurchased?: boolean | null,
    @Arg('includeOutOfStock', () => Boolean, { nullable: true, defaultValue: false }) includeOutOfStock?: boolean | null,
    @Arg('segment', () => String, { nullable: true, description: 'Only for customers this segment query selects.' }) segment?: string | null,
    @Arg('windowDays', () => Int, { nullable: true }) windowDays?: number | null,
  ): Promise<Recommendation[]> {
    const storefrontOnly = actor && !actor.roles.some((r) => READ_CUSTOMERS.includes(r));
    if (storefrontOnly) {
      if (customerExternalId != null && customerExternalId !== actor.customerExternalId) {
        throw KokyakuError.forbidden('A storefront may only ask for its signed-in customer.');
      }
      customerExternalId = actor.customerExternalId ?? null;
    }
    return kokyaku.recommendations.recommend(core, {
      customerExternalId,
      productExternalId,
      strategy,
      first,
      category,
      excludePurchased,
      includeOutOfStock,
      segment,
      windowDays,
    }) as Promise<Recommendation[]>;
  }

  @Authorized(['ADMIN'])
  @UseMiddleware(Costly(100))
  @Query(() => RecommendationEvaluation, {
    description: "Replays the shop's history (each customer's last basket held out) and measures every strategy. Takes seconds to minutes.",
  })
  async recommendationEvaluation(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('k', () => Int, { nullable: true, defaultValue: 10 }) k: number,
    @Arg('sample', () => Int, { nullable: true, defaultValue: 2000 }) sample: number,
    @Arg('blends', () => [Float], { nullable: true, description: "Also measure FOR_CUSTOMER at these popularity weights (0-1), at the shop's repeat weight." }) blends?:
      | number[]
      | null,
  ): Promise<RecommendationEvaluation> {
    const evaluation = await kokyaku.recommendations.evaluate(core, { k, sample, blends: blends ?? undefined });
    const { popularity, repeat, cycles, measuredAt, rows } = evaluation.blend!;
    return { ...evaluation, blend: { popularityWeight: popularity, repeatWeight: repeat, cycles, measuredAt, rows } } as RecommendationEvaluation;
  }
}
