import { Arg, Authorized, Ctx, Float, ID, Query, Resolver, UseMiddleware } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Costly } from '../security/rate-limit.js';
import { CampaignReport, ClvModel, CohortReport, DecileReport, KpiReport, RepeatPurchaseReport, ReportPeriod, RfmReport } from './types.js';

const DAY = { nullable: true, description: 'YYYY-MM-DD in the shop time zone, inclusive.' } as const;

@Resolver()
export class AnalyticsResolver {
  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => RfmReport, { description: 'Customers and revenue per RFM group and per (recency, FM) cell, as of the last refresh.' })
  rfmReport(@Ctx() { kokyaku, core }: GraphQLContext): Promise<RfmReport> {
    return kokyaku.analytics.rfmReport(core) as Promise<RfmReport>;
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => DecileReport, { description: 'Customers ranked by spend in [from, to] (default the last 12 months), in ten equal groups.' })
  decileReport(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, DAY) from?: string | null,
    @Arg('to', () => String, DAY) to?: string | null,
  ): Promise<DecileReport> {
    return kokyaku.analytics.decileReport(core, { from, to });
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => CohortReport, { description: 'Monthly acquisition cohorts with retention by month since the first order.' })
  cohortReport(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, DAY) from?: string | null,
    @Arg('to', () => String, DAY) to?: string | null,
  ): Promise<CohortReport> {
    return kokyaku.analytics.cohortReport(core, { from, to });
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => RepeatPurchaseReport, { description: 'Share of customers with two or more placed orders, and the shop days from the first order to the second.' })
  repeatPurchaseReport(@Ctx() { kokyaku, core }: GraphQLContext): Promise<RepeatPurchaseReport> {
    return kokyaku.analytics.repeatPurchaseReport(core);
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => KpiReport, {
    description: 'Revenue, orders, AOV, new and returning customers and repeat rate per whole period: from and to widen to the start and end of their periods.',
  })
  kpiReport(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, DAY) from?: string | null,
    @Arg('to', () => String, DAY) to?: string | null,
    @Arg('period', () => ReportPeriod, { nullable: true, defaultValue: ReportPeriod.MONTH }) period?: ReportPeriod,
  ): Promise<KpiReport> {
    return kokyaku.analytics.kpiReport(core, { from, to, period }) as Promise<KpiReport>;
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => CampaignReport, {
    description: 'ROI and ROAS of a campaign: give its attributed revenue, a journey (its attributed revenue), or a segment query whose placed orders in [from, to] count.',
  })
  async campaignReport(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('cost', () => Float) cost: number,
    @Arg('revenue', () => Float, { nullable: true }) revenue?: number | null,
    @Arg('segment', () => String, { nullable: true }) segment?: string | null,
    @Arg('from', () => String, DAY) from?: string | null,
    @Arg('to', () => String, DAY) to?: string | null,
    @Arg('journeyId', () => ID, {
      nullable: true,
      description: 'A journey: its attributed revenue and orders (last touch, docs/automation.md) for the messages of the days [from, to].',
    })
    journeyId?: string | null,
  ): Promise<CampaignReport> {
    if (journeyId != null) {
      const report = await kokyaku.journeys.report(core, journeyId, { from, to });
      return { ...(await kokyaku.analytics.campaignReport(core, { cost, revenue: report.attributedRevenue })), orders: report.attributedOrders };
    }
    const segmentWhere = segment != null ? await kokyaku.segments.compile(core, segment, { firstParam: 5 }) : null;
    return kokyaku.analytics.campaignReport(core, { cost, revenue, segmentWhere, from, to });
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => ClvModel, { nullable: true, description: 'The CLV models of the last refresh; null when there was too little history to fit them.' })
  clvModel(@Ctx() { kokyaku, core }: GraphQLContext): Promise<ClvModel | null> {
    return kokyaku.analytics.clvModel(core);
  }
}
