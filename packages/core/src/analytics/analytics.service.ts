import type { AnalyticsConfig } from './config.js';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { currencyDigits, toMajorUnits } from '../shared/money.js';
import { sql } from '../shared/sql.js';
import { addDays, addMonths, dayStart, periodEnd, periodStart, todayIn } from '../shared/dates.js';
import { type CompiledSegment, segmentFrom } from '../segments/compiler.js';
import { type BgNbdParams, type RfmSummary, expectedPurchases, fitBgNbd, probabilityAlive } from './clv/bgnbd.js';
import { type GammaGammaParams, expectedSpend, fitGammaGamma } from './clv/gamma-gamma.js';
import { RFM_GROUPS, type RfmGroup } from '../shared/rfm.js';
import { cohortRows, decileRows, kpiRows, rfmRows, median, repeatRows, type ReportSource } from './reports.js';
import { rebuildRollups, rollupsReady, spendWindowIs } from './rollups.js';

const WEEKS_PER_MONTH = 52.1775 / 12;

/** How many of the cut points (bound parameters from $first on) a SQL value exceeds. */
const exceeded = (value: string, first: number, count: number) => `(${Array.from({ length: count }, (_, i) => `(${value} > $${first + i}::numeric)::int`).join(' + ')})`;

/**
 * Scores from cut points bound as parameters, for some customers ($3, JSON ids) or all (null):
 * R = 5 minus the recency cuts ($6-$9) the days since the last order exceed; F, M = 1 plus the
 * frequency ($10-$13) / monetary ($14-$17) cuts exceeded; decile = 10 minus the spend cuts
 * ($18-$26) exceeded (1 = top spenders). Ties share a score. Plain arithmetic per row.
 */
const SCORE = `
  insert into kokyaku.customer_scores as t (customer_id, tenant_id, recency_score, frequency_score, monetary_score, decile, rfm_group)
  select s.customer_id, $1, s.r, s.fr, s.m, s.d, s.grp
  from (
    select scored.*, case when scored.r is null then 'PROSPECTS' else ($4::jsonb -> scored.r::text) ->> ((scored.fr + scored.m + 1) / 2 - 1) end as grp
    from (
    select x.customer_id,
           case when x.orders_count > 0 then (5 - ${exceeded('($2::date - (x.last_order_at at time zone $5::text)::date)', 6, 4)})::smallint end as r,
           case when x.orders_count > 0 then (1 + ${exceeded('x.orders_count', 10, 4)})::smallint end as fr,
           case when x.orders_count > 0 then (1 + ${exceeded('x.total_spent_minor', 14, 4)})::smallint end as m,
           case when x.orders_count > 0 then (10 - ${exceeded('x.total_spent_minor', 18, 9)})::smallint end as d
    from kokyaku.customer_facts x
    where x.tenant_id = $1 and ($3::jsonb is null or x.customer_id = any(kokyaku.json_bigints($3::jsonb)))
    ) scored
  ) s
  left join kokyaku.customer_scores t0 on t0.tenant_id = $1 and t0.customer_id = s.customer_id
  -- Only new or changed scores reach the write (a refresh usually changes few).
  where t0.customer_id is null
     or (t0.recency_score, t0.frequency_score, t0.monetary_score, t0.decile, t0.rfm_group) is distinct from (s.r, s.fr, s.m, s.d, s.grp)
  on conflict (customer_id, tenant_id) do update
    set recency_score = excluded.recency_score, frequency_score = excluded.frequency_score,
        monetary_score = excluded.monetary_score, decile = excluded.decile, rfm_group = excluded.rfm_group
    where (t.recency_score, t.frequency_score, t.monetary_score, t.decile, t.rfm_group)
      is distinct from (excluded.recency_score, excluded.frequency_score, excluded.monetary_score, excluded.decile, excluded.rfm_group)`;

interface Cuts {
  recency: number[];
  frequency: number[];
  monetary: number[];
  deciles: number[];
}

/** Without cut points yet (never refreshed), every cut is +infinity: R = 5, F = M = 1, decile 10. */
const NO_CUTS: Cuts = {
  recency: [Infinity, Infinity, Infinity, Infinity],
  frequency: Array(4).fill(Infinity),
  monetary: Array(4).fill(Infinity),
  deciles: Array(9).fill(Infinity),
};

/** Cut points (20/40/60/80th percentiles; deciles 10..90th) over the customers who have ordered. */
const CUTS = `
  insert into kokyaku.analytics_state as st (tenant_id, rfm_cuts, decile_cuts, scored_at)
  select $1,
         jsonb_build_object(
           'recency', to_jsonb(percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by ($2::date - (f.last_order_at at time zone $3::text)::date))),
           'frequency', to_jsonb(percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by f.orders_count)),
           'monetary', to_jsonb(percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by f.total_spent_minor))),
         to_jsonb(percentile_disc(array[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) within group (order by f.total_spent_minor)),
         now()
  from kokyaku.customer_facts f
  where f.tenant_id = $1 and f.orders_count > 0
  on conflict (tenant_id) do update set rfm_cuts = excluded.rfm_cuts, decile_cuts = excluded.decile_cuts, scored_at = excluded.scored_at`;

export interface ClvModel {
  bgnbd: BgNbdParams & { logLikelihood: number; customers: number };
  gammaGamma: GammaGammaParams & { logLikelihood: number; customers: number };
  calibrationEnd: string;
  horizonMonths: number;
  annualDiscountRate: number;
  fittedAt: string;
  /** Reasons not to trust the predictions fully (see docs/analytics.md). */
  warnings: string[];
}

/** What a fit says about itself: degenerate parameters mean the data did not identify the model. */
function fitWarnings(bgnbd: BgNbdParams, customers: number, repeaters: number, calibrationWeeks: number): string[] {
  const warnings: string[] = [];
  if (bgnbd.a < 0.01 || bgnbd.b > 1e4 || bgnbd.a > 1e4) {
    warnings.push('The history shows almost no customers dropping out (BG/NBD a -> 0): churn risk is near 0 for everyone and says little.');
  }
  if (bgnbd.r > 1e3 || bgnbd.alpha > 1e4) {
    warnings.push('Purchase rates look the same for every customer (BG/NBD r, alpha very large): predictions follow the shop average.');
  }
  if (customers < 1000 || repeaters < 200) warnings.push(`Fitted on few customers (${customers}, ${repeaters} with repeat purchases): expect wide errors.`);
  if (calibrationWeeks < 26) warnings.push('Less than six months of history: frequency and dropout are hard to tell apart.');
  return warnings;
}

export type Period = 'DAY' | 'WEEK' | 'MONTH';

export interface DateRange {
  /** First day (YYYY-MM-DD, shop time zone), inclusive. */
  from?: string | null;
  /** Last day, inclusive. */
  to?: string | null;
}

interface CustomerHistory extends RfmSummary {
  customerId: string;
  /** Mean value of the repeat purchase days, in major units of the shop currency. */
  m: number;
}

/** A YYYY-MM-DD day, or BAD_USER_INPUT naming the field. */
export function checkDate(value: string, field: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw KokyakuError.badInput(`"${field}" must be a date written YYYY-MM-DD.`, { field });
  }
  return value;
}

/**
 * RFM scores and groups, deciles, BG/NBD + Gamma-Gamma predictions, and the reports built on the
 * customer facts and orders. Scores are recomputed by `refresh` (and kept provisionally current
 * on every order from the last cut points); reports are computed when asked.
 */
export class AnalyticsService {
  constructor(private readonly config: AnalyticsConfig) {}

  private today(ctx: KokyakuContext, now?: Date): string {
    return todayIn(ctx.shop.timeZone, now);
  }

  private async cuts(ctx: KokyakuContext): Promise<Cuts> {
    const [row] = await sql<{ rfm_cuts: { recency: number[]; frequency: number[]; monetary: number[] } | null; decile_cuts: number[] | null }>(
      ctx.em,
      `select rfm_cuts, decile_cuts from kokyaku.analytics_state where tenant_id = $1`,
      [ctx.tenantId],
    );
    if (!row?.rfm_cuts || !row.decile_cuts) return NO_CUTS;
    return { ...row.rfm_cuts, deciles: row.decile_cuts };
  }

  /** Scores the given customers against the last cut points (in the ingestion transaction). */
  async scoreCustomers(ctx: KokyakuContext, customerIds: readonly string[] | null, now?: Date): Promise<void> {
    if (customerIds && customerIds.length === 0) return;
    const cuts = await this.cuts(ctx);
    // 'Infinity' is a valid numeric in PostgreSQL: nothing exceeds it.
    const values = [...cuts.recency, ...cuts.frequency, ...cuts.monetary, ...cuts.deciles].map((v) => (Number.isFinite(v) ? v : 'Infinity'));
    await sql(ctx.em, SCORE, [
      ctx.tenantId,
      this.today(ctx, now),
      customerIds ? JSON.stringify(customerIds) : null,
      JSON.stringify(this.config.rfmGrid),
      ctx.shop.timeZone,
      ...values,
    ]);
  }

  /** Recomputes the cut points from every customer who has ordered, then everyone's scores. */
  async refreshScores(ctx: KokyakuContext, now?: Date): Promise<void> {
    const today = this.today(ctx, now);
    await sql(ctx.em, CUTS, [ctx.tenantId, today, ctx.shop.timeZone]);
    await this.scoreCustomers(ctx, null, now);
  }

  /**
   * Per-customer purchase history in the BG/NBD conventions: purchase days (shop time zone, same
   * day merged) before the calibration end; weeks; m = mean of the repeat days' amounts.
   */
  private async histories(ctx: KokyakuContext, calibrationEnd: string, options: { afterId?: string; throughId?: string; sample?: number } = {}) {
    const rows = await sql<{ customer_id: string; x: number; tx_days: number; t_days: number; m: string | null }>(
      ctx.em,
      `with days as (
         select o.customer_id, (o.placed_at at time zone $2::text)::date as day, sum(o.total_minor) as amount
         from kokyaku.orders o
         where o.tenant_id = $1 and o.status = 'PLACED' and o.placed_at < ${dayStart('$3', '$2::text')} + interval '1 day'
           and ($4::bigint is null or o.customer_id > $4::bigint) and ($5::bigint is null or o.customer_id <= $5::bigint)
           and ($6::int is null or (o.customer_id * 2654435761) % 1000003 < $6::int)
         group by 1, 2
       ),
       ranked as (
         select customer_id, day, amount, row_number() over (partition by customer_id order by day) as n
         from days
       )
       select customer_id::text as customer_id, (count(*) - 1)::int as x, (max(day) - min(day))::int as tx_days,
              ($3::date - min(day))::int as t_days, avg(amount) filter (where n > 1) as m
       from ranked group by customer_id order by customer_id`,
      [ctx.tenantId, ctx.shop.timeZone, calibrationEnd, options.afterId ?? null, options.throughId ?? null, options.sample ?? null],
    );
    const scale = 10 ** currencyDigits(ctx.shop.currency);
    return rows.map((r): CustomerHistory => ({ customerId: r.customer_id, x: r.x, tx: r.tx_days / 7, T: r.t_days / 7, m: r.m === null ? 0 : Number(r.m) / scale }));
  }

  /**
   * Fits BG/NBD and Gamma-Gamma on the tenant's history (up to `sampleSize` customers, a
   * deterministic sample above it), then writes every customer's expected purchases over the
   * horizon, probability of being alive, churn risk (1 - P(alive)) and predicted CLV. Returns null
   * (and predicts nothing) when there is too little history to trust a fit.
   */
  async refreshClv(ctx: KokyakuContext, options: { calibrationEnd?: string; now?: Date } = {}): Promise<ClvModel | null> {
    const calibrationEnd = options.calibrationEnd ? checkDate(options.calibrationEnd, 'calibrationEnd') : this.today(ctx, options.now);
    const { clv } = this.config;
    const [counts] = await sql<{ customers: number }>(ctx.em, `select count(*)::int as customers from kokyaku.customer_facts where tenant_id = $1 and orders_count > 0`, [
      ctx.tenantId,
    ]);
    const customers = counts?.customers ?? 0;
    const sample = customers > clv.sampleSize ? Math.ceil((1_000_003 * clv.sampleSize) / customers) : undefined;
    const training = await this.histories(ctx, calibrationEnd, { sample });
    const repeaters = training.filter((h) => h.x > 0);
    if (training.length < clv.minCustomers || repeaters.length < 20) {
      await sql(ctx.em, `update kokyaku.analytics_state set clv_model = null, clv_fitted_at = now() where tenant_id = $1`, [ctx.tenantId]);
      return null;
    }
    const bgnbd = fitBgNbd(training);
    const gammaGamma = fitGammaGamma(repeaters.map((h) => ({ x: h.x, m: h.m })));
    const model: ClvModel = {
      bgnbd: { ...bgnbd.params, logLikelihood: bgnbd.logLikelihood, customers: bgnbd.customers },
      gammaGamma: { ...gammaGamma.params, logLikelihood: gammaGamma.logLikelihood, customers: gammaGamma.customers },
      calibrationEnd,
      horizonMonths: clv.horizonMonths,
      annualDiscountRate: clv.annualDiscountRate,
      fittedAt: new Date().toISOString(),
      warnings: fitWarnings(bgnbd.params, training.length, repeaters.length, Math.max(...training.map((h) => h.T))),
    };
    await sql(
      ctx.em,
      `insert into kokyaku.analytics_state (tenant_id, clv_model, clv_fitted_at) values ($1, $2::jsonb, now())
       on conflict (tenant_id) do update set clv_model = excluded.clv_model, clv_fitted_at = excluded.clv_fitted_at`,
      [ctx.tenantId, JSON.stringify(model)],
    );

    const monthly = (1 + clv.annualDiscountRate) ** (1 / 12) - 1;
    const scale = 10 ** currencyDigits(ctx.shop.currency);
    const predict = (h: CustomerHistory) => {
      const pAlive = probabilityAlive(bgnbd.params, h);
      let purchases: number;
      let discounted: number;
      if (monthly === 0) {
        purchases = discounted = expectedPurchases(bgnbd.params, h, clv.horizonMonths * WEEKS_PER_MONTH);
      } else {
        // Month by month, each month's expected purchases discounted to today.
        discounted = 0;
        let previous = 0;
        for (let month = 1; month <= clv.horizonMonths; month++) {
          const cumulative = expectedPurchases(bgnbd.params, h, month * WEEKS_PER_MONTH);
          discounted += (cumulative - previous) / (1 + monthly) ** month;
          previous = cumulative;
        }
        purchases = previous;
      }
      const spend = gammaGamma.params.q > 1 ? expectedSpend(gammaGamma.params, { x: h.x, m: h.m }) : h.m;
      return {
        id: h.customerId,
        purchases: Number.isFinite(purchases) ? purchases : null,
        alive: pAlive,
        churn: 1 - pAlive,
        clv: Number.isFinite(discounted * spend) ? Math.round(discounted * spend * scale) : null,
      };
    };
    // Everyone who ordered, in pages of consecutive ids, written back in one statement per page
    // (only rows that change).
    let afterId: string | undefined;
    for (;;) {
      const [bound] = await sql<{ through: string | null }>(
        ctx.em,
        `select max(customer_id)::text as through from (
           select customer_id from kokyaku.customer_facts
           where tenant_id = $1 and orders_count > 0 and ($2::bigint is null or customer_id > $2::bigint)
           order by customer_id limit 20000) page`,
        [ctx.tenantId, afterId ?? null],
      );
      if (!bound?.through) break;
      const page = await this.histories(ctx, calibrationEnd, { afterId, throughId: bound.through });
      afterId = bound.through;
      if (page.length === 0) continue;
      await sql(
        ctx.em,
        `insert into kokyaku.customer_scores as t (customer_id, tenant_id, expected_purchases, probability_alive, churn_risk, predicted_clv_minor)
         select v.id, $1, v.purchases, v.alive, v.churn, v.clv
         from jsonb_to_recordset($2::jsonb) as v(id bigint, purchases float8, alive float8, churn float8, clv bigint)
         on conflict (customer_id, tenant_id) do update
           set expected_purchases = excluded.expected_purchases, probability_alive = excluded.probability_alive,
               churn_risk = excluded.churn_risk, predicted_clv_minor = excluded.predicted_clv_minor
           where (t.expected_purchases, t.probability_alive, t.churn_risk, t.predicted_clv_minor)
             is distinct from (excluded.expected_purchases, excluded.probability_alive, excluded.churn_risk, excluded.predicted_clv_minor)`,
        [ctx.tenantId, JSON.stringify(page.map(predict))],
      );
    }
    // Customers without placed orders (any more) have nothing to predict from.
    await sql(
      ctx.em,
      `update kokyaku.customer_scores s set expected_purchases = null, probability_alive = null, churn_risk = null, predicted_clv_minor = null
       from kokyaku.customer_facts f
       where s.tenant_id = $1 and f.tenant_id = s.tenant_id and f.customer_id = s.customer_id and f.orders_count = 0
         and (s.predicted_clv_minor is not null or s.churn_risk is not null)`,
      [ctx.tenantId],
    );
    return model;
  }

  async clvModel(ctx: KokyakuContext): Promise<ClvModel | null> {
    const [row] = await sql<{ clv_model: ClvModel | null }>(ctx.em, `select clv_model from kokyaku.analytics_state where tenant_id = $1`, [ctx.tenantId]);
    return row?.clv_model ?? null;
  }

  /** Customers and revenue per (R, FM) cell and per group. */
  async rfmReport(ctx: KokyakuContext, options: ReportSource = {}) {
    const rows = (await this.fromRollups(ctx, options)) ? await rfmRows.rollups(ctx) : await rfmRows.orders(ctx);
    const currency = ctx.shop.currency;
    const totalCustomers = rows.reduce((s, r) => s + r.customers, 0);
    const totalRevenue = rows.reduce((s, r) => s + Number(r.revenue), 0);
    const groups = RFM_GROUPS.map((group) => {
      const mine = rows.filter((r) => r.rfm_group === group);
      const customers = mine.reduce((s, r) => s + r.customers, 0);
      const revenue = mine.reduce((s, r) => s + Number(r.revenue), 0);
      return {
        group,
        customers,
        revenue: toMajorUnits(revenue, currency),
        customerShare: totalCustomers ? customers / totalCustomers : 0,
        revenueShare: totalRevenue ? revenue / totalRevenue : 0,
      };
    });
    const cells = rows
      .filter((r) => r.r !== null && r.fm !== null)
      .map((r) => ({ recency: r.r!, fm: r.fm!, group: r.rfm_group, customers: r.customers, revenue: toMajorUnits(Number(r.revenue), currency) }));
    return { customers: totalCustomers, revenue: toMajorUnits(totalRevenue, currency), groups, cells };
  }

  private range(ctx: KokyakuContext, range: DateRange, defaultMonths: number) {
    const to = range.to ? checkDate(range.to, 'to') : this.today(ctx);
    const from = range.from ? checkDate(range.from, 'from') : addDays(addMonths(to, -defaultMonths), 1);
    if (from > to) throw KokyakuError.badInput('"from" must not be after "to".', { field: 'from' });
    return { from, to, end: addDays(to, 1) };
  }

  /**
   * Customers ranked by spend in [from, to] (default the last 12 months), in ten equal groups. The
   * default range comes from the rollups (the refresh keeps them for the 12 months to its day).
   */
  async decileReport(ctx: KokyakuContext, range: DateRange & ReportSource = {}) {
    const { from, to, end } = this.range(ctx, range, 12);
    const rows = (await this.fromRollups(ctx, range)) && (await spendWindowIs(ctx, { from, to })) ? await decileRows.rollups(ctx) : await decileRows.orders(ctx, from, end);
    const total = rows.reduce((s, r) => s + Number(r.revenue), 0);
    let cumulative = 0;
    const currency = ctx.shop.currency;
    return {
      from,
      to,
      customers: rows.reduce((s, r) => s + r.customers, 0),
      revenue: toMajorUnits(total, currency),
      deciles: rows.map((r) => {
        cumulative += Number(r.revenue);
        return {
          decile: r.decile,
          customers: r.customers,
          revenue: toMajorUnits(Number(r.revenue), currency),
          share: total ? Number(r.revenue) / total : 0,
          cumulativeShare: total ? cumulative / total : 0,
          minSpend: toMajorUnits(Number(r.min_spend), currency),
          maxSpend: toMajorUnits(Number(r.max_spend), currency),
        };
      }),
    };
  }

  /**
   * Monthly acquisition cohorts (month of the first placed order, shop time zone) whose first
   * month lies in [from, to] (default the last 12 months), with how many of them ordered in each
   * month since.
   */
  async cohortReport(ctx: KokyakuContext, range: DateRange & ReportSource = {}) {
    const { from, to, end } = this.range(ctx, range, 12);
    const rows = (await this.fromRollups(ctx, range)) ? await cohortRows.rollups(ctx, from, to) : await cohortRows.orders(ctx, from, end);
    const cohorts = new Map<string, { cohort: string; customers: number; retention: { month: number; customers: number; rate: number }[] }>();
    for (const row of rows) {
      const cohort = cohorts.get(row.cohort) ?? { cohort: row.cohort, customers: 0, retention: [] };
      if (row.month === 0) cohort.customers = row.customers;
      cohort.retention.push({ month: row.month, customers: row.customers, rate: 0 });
      cohorts.set(row.cohort, cohort);
    }
    for (const cohort of cohorts.values()) for (const r of cohort.retention) r.rate = cohort.customers ? r.customers / cohort.customers : 0;
    return { from, to, cohorts: [...cohorts.values()] };
  }

  /**
   * Share of customers with two or more placed orders, and how many days the second order takes
   * (shop days from the first order's to the second's; 0 when both fell on one day).
   */
  async repeatPurchaseReport(ctx: KokyakuContext, options: ReportSource = {}) {
    const { customers, gaps } = (await this.fromRollups(ctx, options)) ? await repeatRows.rollups(ctx) : await repeatRows.orders(ctx);
    const repeat = gaps.reduce((s, g) => s + g.customers, 0);
    return {
      customers,
      repeatCustomers: repeat,
      repeatRate: customers ? repeat / customers : 0,
      medianDaysToSecondOrder: median(gaps),
      averageDaysToSecondOrder: repeat ? gaps.reduce((s, g) => s + g.days * g.customers, 0) / repeat : null,
    };
  }

  /**
   * Revenue, orders, AOV, new and returning customers and repeat rate per period. Periods are
   * whole: [from, to] (default: the last 12 months, the last month by day) widens to the start
   * of from's period and the end of to's.
   */
  async kpiReport(ctx: KokyakuContext, range: DateRange & ReportSource & { period?: Period } = {}) {
    const period = range.period ?? 'MONTH';
    if (!['DAY', 'WEEK', 'MONTH'].includes(period)) throw KokyakuError.badInput('"period" is DAY, WEEK or MONTH.', { field: 'period' });
    const to = range.to ? checkDate(range.to, 'to') : this.today(ctx);
    const defaultFrom = period === 'MONTH' ? addMonths(periodStart(to, 'MONTH'), -11) : addDays(addMonths(to, period === 'DAY' ? -1 : -12), 1);
    const from = periodStart(range.from ? checkDate(range.from, 'from') : defaultFrom, period);
    if (from > to) throw KokyakuError.badInput('"from" must not be after "to".', { field: 'from' });
    const last = periodEnd(to, period);
    const unit = period.toLowerCase() as 'day' | 'week' | 'month';
    const rows = (await this.fromRollups(ctx, range)) ? await kpiRows.rollups(ctx, unit, from, last) : await kpiRows.orders(ctx, unit, from, last);
    const currency = ctx.shop.currency;
    return {
      from,
      to: last,
      period,
      periods: rows.map((r) => {
        const revenue = Number(r.revenue);
        const buyers = r.new_customers + r.returning_customers;
        return {
          start: r.period,
          revenue: toMajorUnits(revenue, currency),
          orders: r.orders,
          averageOrderValue: toMajorUnits(r.orders ? Math.round(revenue / r.orders) : 0, currency),
          newCustomers: r.new_customers,
          returningCustomers: r.returning_customers,
          repeatRate: buyers ? r.returning_customers / buyers : 0,
        };
      }),
    };
  }

  /**
   * Builds the report rollups again from the orders (the refresh does it when they are missing or
   * were cut in another time zone; call it after writing orders with SQL behind Kokyaku's back).
   */
  rebuildRollups(ctx: KokyakuContext): Promise<void> {
    return rebuildRollups(ctx);
  }

  /** Whether a report reads the rollups: when asked, else when they are built in the shop's time zone. */
  private async fromRollups(ctx: KokyakuContext, options: ReportSource): Promise<boolean> {
    if (options.source) return options.source === 'rollups';
    return rollupsReady(ctx);
  }

  /**
   * ROI = (revenue - cost) / cost and ROAS = revenue / cost of a campaign. Give the attributed
   * revenue, or let it be the placed orders in [from, to] of the customers a segment query selects
   * (`where` of a compiled segment).
   */
  async campaignReport(ctx: KokyakuContext, input: { cost: number; revenue?: number | null; segmentWhere?: CompiledSegment | null } & DateRange) {
    if (!(Number.isFinite(input.cost) && input.cost > 0)) throw KokyakuError.badInput('"cost" must be a positive amount.', { field: 'cost' });
    let revenue = input.revenue ?? null;
    let orders: number | null = null;
    if (revenue === null) {
      if (!input.segmentWhere) throw KokyakuError.badInput('Give the attributed "revenue", or a "segment" whose orders in [from, to] count.', { field: 'revenue' });
      const { from, end } = this.range(ctx, input, 1);
      const { where, params } = input.segmentWhere;
      const [row] = await sql<{ revenue: string; orders: number }>(
        ctx.em,
        `select coalesce(sum(o.total_minor), 0)::text as revenue, count(*)::int as orders
         from kokyaku.orders o
         where o.tenant_id = $1 and o.status = 'PLACED' and o.placed_at >= ${dayStart('$2', '$4::text')} and o.placed_at < ${dayStart('$3', '$4::text')}
           and o.customer_id in (
             select f.customer_id from ${segmentFrom(input.segmentWhere)}
             where f.tenant_id = $1 and ${where})`,
        [ctx.tenantId, from, end, ctx.shop.timeZone, ...params],
      );
      revenue = toMajorUnits(Number(row?.revenue ?? 0), ctx.shop.currency);
      orders = row?.orders ?? 0;
    }
    return { cost: input.cost, revenue, orders, roi: (revenue - input.cost) / input.cost, roas: revenue / input.cost };
  }
}
