import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../shared/scalars.js';

export enum RfmGroupEnum {
  CHAMPIONS = 'CHAMPIONS',
  LOYAL = 'LOYAL',
  ACTIVE = 'ACTIVE',
  NEW = 'NEW',
  PROMISING = 'PROMISING',
  NEEDS_ATTENTION = 'NEEDS_ATTENTION',
  ALMOST_LOST = 'ALMOST_LOST',
  AT_RISK = 'AT_RISK',
  PREVIOUSLY_LOYAL = 'PREVIOUSLY_LOYAL',
  DORMANT = 'DORMANT',
  PROSPECTS = 'PROSPECTS',
}
registerEnumType(RfmGroupEnum, { name: 'RfmGroup', description: 'RFM group; PROSPECTS are customers without placed orders (docs/analytics.md).' });

export enum ReportPeriod {
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
}
registerEnumType(ReportPeriod, { name: 'ReportPeriod' });

@ObjectType({ description: 'RFM scores 1-5 (null without orders) and the group they put the customer in.' })
export class RfmScores {
  @Field(() => Int, { nullable: true, description: '5 = ordered most recently.' })
  recency!: number | null;

  @Field(() => Int, { nullable: true, description: '5 = orders most often.' })
  frequency!: number | null;

  @Field(() => Int, { nullable: true, description: '5 = spends most.' })
  monetary!: number | null;

  @Field(() => RfmGroupEnum)
  group!: RfmGroupEnum;
}

@ObjectType()
export class RfmGroupSummary {
  @Field(() => RfmGroupEnum)
  group!: RfmGroupEnum;

  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  revenue!: number;

  @Field(() => Float)
  customerShare!: number;

  @Field(() => Float)
  revenueShare!: number;
}

@ObjectType({ description: 'One cell of the RFM grid: recency score x FM score.' })
export class RfmCell {
  @Field(() => Int)
  recency!: number;

  @Field(() => Int, { description: '(frequency + monetary) / 2, rounded half up.' })
  fm!: number;

  @Field(() => RfmGroupEnum)
  group!: RfmGroupEnum;

  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  revenue!: number;
}

@ObjectType()
export class RfmReport {
  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  revenue!: number;

  @Field(() => [RfmGroupSummary])
  groups!: RfmGroupSummary[];

  @Field(() => [RfmCell])
  cells!: RfmCell[];
}

@ObjectType()
export class DecileRow {
  @Field(() => Int, { description: '1 = the top 10% of spenders in the period.' })
  decile!: number;

  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  revenue!: number;

  @Field(() => Float)
  share!: number;

  @Field(() => Float)
  cumulativeShare!: number;

  @Field(() => Float)
  minSpend!: number;

  @Field(() => Float)
  maxSpend!: number;
}

@ObjectType()
export class DecileReport {
  @Field(() => String)
  from!: string;

  @Field(() => String)
  to!: string;

  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  revenue!: number;

  @Field(() => [DecileRow])
  deciles!: DecileRow[];
}

@ObjectType()
export class CohortRetention {
  @Field(() => Int, { description: 'Months since the cohort month (0 = the first month).' })
  month!: number;

  @Field(() => Int)
  customers!: number;

  @Field(() => Float)
  rate!: number;
}

@ObjectType()
export class Cohort {
  @Field(() => String, { description: 'YYYY-MM of the first order.' })
  cohort!: string;

  @Field(() => Int)
  customers!: number;

  @Field(() => [CohortRetention])
  retention!: CohortRetention[];
}

@ObjectType()
export class CohortReport {
  @Field(() => String)
  from!: string;

  @Field(() => String)
  to!: string;

  @Field(() => [Cohort])
  cohorts!: Cohort[];
}

@ObjectType()
export class RepeatPurchaseReport {
  @Field(() => Int, { description: 'Customers with at least one placed order.' })
  customers!: number;

  @Field(() => Int)
  repeatCustomers!: number;

  @Field(() => Float)
  repeatRate!: number;

  @Field(() => Float, { nullable: true })
  medianDaysToSecondOrder!: number | null;

  @Field(() => Float, { nullable: true })
  averageDaysToSecondOrder!: number | null;
}

@ObjectType()
export class KpiPeriod {
  @Field(() => String, { description: 'First day of the period (YYYY-MM-DD).' })
  start!: string;

  @Field(() => Float)
  revenue!: number;

  @Field(() => Int)
  orders!: number;

  @Field(() => Float)
  averageOrderValue!: number;

  @Field(() => Int)
  newCustomers!: number;

  @Field(() => Int)
  returningCustomers!: number;

  @Field(() => Float, { description: 'returning / (new + returning) buyers of the period.' })
  repeatRate!: number;
}

@ObjectType()
export class KpiReport {
  @Field(() => String)
  from!: string;

  @Field(() => String)
  to!: string;

  @Field(() => ReportPeriod)
  period!: ReportPeriod;

  @Field(() => [KpiPeriod])
  periods!: KpiPeriod[];
}

@ObjectType()
export class CampaignReport {
  @Field(() => Float)
  cost!: number;

  @Field(() => Float)
  revenue!: number;

  @Field(() => Int, { nullable: true, description: 'Attributed orders, when the revenue was computed from a segment.' })
  orders!: number | null;

  @Field(() => Float, { description: '(revenue - cost) / cost' })
  roi!: number;

  @Field(() => Float, { description: 'revenue / cost' })
  roas!: number;
}

@ObjectType()
export class BgNbdFit {
  @Field(() => Float) r!: number;
  @Field(() => Float) alpha!: number;
  @Field(() => Float) a!: number;
  @Field(() => Float) b!: number;
  @Field(() => Float) logLikelihood!: number;
  @Field(() => Int) customers!: number;
}

@ObjectType()
export class GammaGammaFit {
  @Field(() => Float) p!: number;
  @Field(() => Float) q!: number;
  @Field(() => Float) gamma!: number;
  @Field(() => Float) logLikelihood!: number;
  @Field(() => Int) customers!: number;
}

@ObjectType({ description: 'The fitted BG/NBD and Gamma-Gamma models behind predictedClv and churnRisk.' })
export class ClvModel {
  @Field(() => BgNbdFit)
  bgnbd!: BgNbdFit;

  @Field(() => GammaGammaFit)
  gammaGamma!: GammaGammaFit;

  @Field(() => String, { description: 'Last day of the history the models were fitted on.' })
  calibrationEnd!: string;

  @Field(() => Int)
  horizonMonths!: number;

  @Field(() => Float)
  annualDiscountRate!: number;

  @Field(() => DateTimeScalar)
  fittedAt!: string;

  @Field(() => [String], { description: 'Reasons not to trust the predictions fully (too little history, degenerate fit).' })
  warnings!: string[];
}
