import { Arg, Authorized, Ctx, Float, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { ScoringBands, ScoringRule, ScoringRuleInput } from './types.js';
import { Costly } from '../security/rate-limit.js';
import { CONFIGURE, plain } from './shared.js';

/** Lead scoring rules and bands. */
@Resolver()
export class ScoringResolver {
  // Scoring
  @Authorized(READ_CUSTOMERS)
  @Query(() => [ScoringRule])
  scoringRules(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.scoring.rules(core);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => ScoringBands)
  scoringBands(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.scoring.bands(core);
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => ScoringRule, { description: "Adds a scoring rule and rescores the shop's customers." })
  createScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => ScoringRuleInput) input: ScoringRuleInput) {
    return kokyaku.scoring.createRule(core, plain(input));
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => ScoringRule)
  updateScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('input', () => ScoringRuleInput) input: ScoringRuleInput) {
    return kokyaku.scoring.updateRule(core, id, plain(input));
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => Boolean)
  deleteScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.scoring.deleteRule(core, id);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => ScoringBands)
  setScoringBands(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('hot', () => Float) hot: number, @Arg('warm', () => Float) warm: number) {
    return kokyaku.scoring.setBands(core, { hot, warm });
  }
}
