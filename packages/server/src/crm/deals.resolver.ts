import { Arg, Authorized, Ctx, Float, ID, Int, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Deal, DealConnection, DealInput, DealPatch, ForecastPeriod, ForecastRow, Pipeline, PipelineStage, StageInput, StageOutcome } from './types.js';
import { Costly } from '../security/rate-limit.js';
import { connection } from '../customers/resolver.js';
import { CONFIGURE, type E, plain, WORK_WITH_CUSTOMERS } from './shared.js';

/** Pipelines, deals and the weighted forecast. */
@Resolver()
export class DealsResolver {
  // Deals
  @Authorized(READ_CUSTOMERS)
  @Query(() => [Pipeline])
  pipelines(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.deals.pipelines(core);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline)
  createPipeline(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('name', () => String) name: string, @Arg('stages', () => [StageInput]) stages: StageInput[]) {
    return kokyaku.deals.createPipeline(core, { name, stages: stages.map(plain) });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => PipelineStage)
  updatePipelineStage(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
    @Arg('probability', () => Float, { nullable: true }) probability?: number | null,
  ) {
    return kokyaku.deals.updateStage(core, id, { name, probability });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline, { description: 'Adds a stage at a position (default last).' })
  addPipelineStage(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('pipelineId', () => ID) pipelineId: string,
    @Arg('stage', () => StageInput) stage: StageInput,
    @Arg('position', () => Int, { nullable: true, description: '0 = first.' }) position?: number | null,
  ) {
    return kokyaku.deals.addStage(core, pipelineId, { ...plain(stage), position });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline, { description: 'Removes a stage that no deal is in or has passed through.' })
  deletePipelineStage(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.deleteStage(core, id);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Boolean, { description: 'Deletes a pipeline without deals.' })
  deletePipeline(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.deletePipeline(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => Deal, { nullable: true })
  deal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.get(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => DealConnection, { description: 'Deals, newest first: the board of a pipeline is deals(pipelineId, outcome: OPEN).' })
  async deals(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('pipelineId', () => ID, { nullable: true }) pipelineId?: string | null,
    @Arg('stageId', () => ID, { nullable: true }) stageId?: string | null,
    @Arg('ownerId', () => String, { nullable: true }) ownerId?: string | null,
    @Arg('outcome', () => StageOutcome, { nullable: true }) outcome?: E<typeof StageOutcome> | null,
  ) {
    return connection(await kokyaku.deals.list(core, { first, after, pipelineId, stageId, ownerId, outcome }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal)
  createDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => DealInput) input: DealInput) {
    return kokyaku.deals.create(core, plain(input));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal)
  updateDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => DealPatch) patch: DealPatch) {
    return kokyaku.deals.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal, { description: 'Moves a deal to another stage of its pipeline, recording the move.' })
  moveDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('stageId', () => ID) stageId: string) {
    return kokyaku.deals.move(core, id, stageId);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal, { description: "Links the orders that fulfilled a deal, by the shop's order ids." })
  linkDealOrders(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('orderExternalIds', () => [String]) orderExternalIds: string[]) {
    return kokyaku.deals.linkOrders(core, id, orderExternalIds);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.delete(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(3))
  @Query(() => [ForecastRow], { description: 'Weighted forecast (amount x stage probability) of open deals per period of expected close and owner, with the deals won.' })
  dealForecast(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, { description: 'YYYY-MM-DD' }) from: string,
    @Arg('to', () => String, { description: 'YYYY-MM-DD, exclusive' }) to: string,
    @Arg('period', () => ForecastPeriod, { nullable: true }) period?: E<typeof ForecastPeriod> | null,
    @Arg('pipelineId', () => ID, { nullable: true }) pipelineId?: string | null,
    @Arg('ownerId', () => String, { nullable: true }) ownerId?: string | null,
  ) {
    return kokyaku.deals.forecast(core, { from, to, period: period ?? undefined, pipelineId, ownerId });
  }
}
