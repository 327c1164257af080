import type { KokyakuContext } from '../shared/context.js';
import { dayStart } from '../shared/dates.js';
import type { RfmGroup } from '../shared/rfm.js';
import { sql } from '../shared/sql.js';

/**
 * The rows of the RFM grid, KPI, cohort, repeat-purchase and decile reports, two ways: from the rollups (what the
 * reports read once the refresh has built them) and from the orders (before that, and as the
 * definition the rollups are tested against). Both give the same rows.
 */

/** Which computation a report uses: the rollups or the orders (default: the rollups once built). */
export interface ReportSource {
  source?: 'rollups' | 'orders';
}

type Unit = 'day' | 'week' | 'month';

/** percentile_cont(0.5) of values given as (days, how many customers), sorted by days. */
export function median(counts: readonly { days: number; customers: number }[]): number | null {
  const total = counts.reduce((s, c) => s + c.customers, 0);
  if (total === 0) return null;
  const at = (position: number) => {
    let seen = 0;
    for (const c of counts) {
      seen += c.customers;
      if (position < seen) return c.days;
    }
    return counts[counts.length - 1]!.days;
  };
  const mid = (total - 1) / 2;
  return (at(Math.floor(mid)) + at(Math.ceil(mid))) / 2;
}

interface KpiRow {
  period: string;
  revenue: string;
  orders: number;
  new_customers: number;
  returning_customers: number;
}

export const kpiRows = {
  /** Periods of `unit` from the one starting `from` through the one ending `last`. */
  rollups: (ctx: KokyakuContext, unit: Unit, from: string, last: string) =>
    sql<KpiRow>(
      ctx.em,
      `select to_char(period, 'YYYY-MM-DD') as period, sum(revenue_minor)::text as revenue, sum(orders)::int as orders,
              sum(new_customers)::int as new_customers, (sum(customers) - sum(new_customers))::int as returning_customers
       from kokyaku.report_rollups
       where tenant_id = $1 and kind = $2 and period between $3::date and $4::date
       group by period having sum(orders) <> 0 order by period`,
      [ctx.tenantId, unit, from, last],
    ),
  orders: (ctx: KokyakuContext, unit: Unit, from: string, last: string) =>
    sql<KpiRow>(
      ctx.em,
      `with firsts as (
         select customer_id, min(placed_at) as first_at from kokyaku.orders
         where tenant_id = $1 and status = 'PLACED' group by customer_id
       ),
       placed as (
         select o.id, o.customer_id, o.total_minor, date_trunc($5::text, o.placed_at at time zone $4::text)::date as period,
                date_trunc($5::text, f.first_at at time zone $4::text)::date as first_period
         from kokyaku.orders o join firsts f on f.customer_id = o.customer_id
         where o.tenant_id = $1 and o.status = 'PLACED'
           and o.placed_at >= ${dayStart('$2', '$4::text')} and o.placed_at < ${dayStart('($3::date + 1)', '$4::text')}
       )
       select to_char(period, 'YYYY-MM-DD') as period, sum(total_minor)::text as revenue, count(*)::int as orders,
              count(distinct customer_id) filter (where first_period = period)::int as new_customers,
              count(distinct customer_id) filter (where first_period < period)::int as returning_customers
       from placed group by period order by period`,
      [ctx.tenantId, from, last, ctx.shop.timeZone, unit],
    ),
};

interface CohortRow {
  cohort: string;
  month: number;
  customers: number;
}

export const cohortRows = {
  /** Cohorts whose first month is in [month of from, to]. */
  rollups: (ctx: KokyakuContext, from: string, to: string) =>
    sql<CohortRow>(
      ctx.em,
      `select to_char(period, 'YYYY-MM') as cohort, bucket::int as month, sum(customers)::int as customers
       from kokyaku.report_rollups
       where tenant_id = $1 and kind = 'cohort' and period >= date_trunc('month', $2::date)::date and period <= $3::date
       group by period, bucket having sum(customers) <> 0 order by period, bucket`,
      [ctx.tenantId, from, to],
    ),
  /** Cohorts whose first month is in [month of from, end). */
  orders: (ctx: KokyakuContext, from: string, end: string) =>
    sql<CohortRow>(
      ctx.em,
      `with placed as (
         select o.customer_id, date_trunc('month', o.placed_at at time zone $4::text)::date as month
         from kokyaku.orders o where o.tenant_id = $1 and o.status = 'PLACED'
       ),
       firsts as (select customer_id, min(month) as cohort from placed group by customer_id),
       activity as (
         select distinct p.customer_id, f.cohort,
                ((extract(year from p.month) - extract(year from f.cohort)) * 12 + extract(month from p.month) - extract(month from f.cohort))::int as month
         from placed p join firsts f on f.customer_id = p.customer_id
         where f.cohort >= date_trunc('month', $2::date) and f.cohort < $3::date
       )
       select to_char(cohort, 'YYYY-MM') as cohort, month, count(*)::int as customers
       from activity group by cohort, month order by cohort, month`,
      [ctx.tenantId, from, end, ctx.shop.timeZone],
    ),
};

interface RepeatRows {
  /** Customers with a placed order. */
  customers: number;
  /** Repeat customers per whole number of days to their second order, by days. */
  gaps: { days: number; customers: number }[];
}

export const repeatRows = {
  rollups: async (ctx: KokyakuContext): Promise<RepeatRows> => {
    const rows = await sql<{ kind: string; bucket: number; customers: number }>(
      ctx.em,
      `select kind, bucket::int as bucket, sum(customers)::int as customers from kokyaku.report_rollups
       where tenant_id = $1 and kind in ('buyers', 'gap')
       group by kind, bucket having sum(customers) <> 0 order by kind, bucket`,
      [ctx.tenantId],
    );
    return {
      customers: rows.find((r) => r.kind === 'buyers')?.customers ?? 0,
      gaps: rows.filter((r) => r.kind === 'gap').map((r) => ({ days: r.bucket, customers: r.customers })),
    };
  },
  orders: async (ctx: KokyakuContext): Promise<RepeatRows> => {
    const rows = await sql<{ days: number | null; customers: number }>(
      ctx.em,
      `with days as (
         select customer_id, (placed_at at time zone $2::text)::date as day, count(*) as orders
         from kokyaku.orders where tenant_id = $1 and status = 'PLACED' group by 1, 2
       ),
       firsts as (
         select customer_id, day, orders, row_number() over w as n, lead(day) over w as next_day,
                sum(orders) over (partition by customer_id) as total
         from days window w as (partition by customer_id order by day)
       )
       select case when total < 2 then null when orders >= 2 then 0 else next_day - day end as days, count(*)::int as customers
       from firsts where n = 1 group by 1 order by 1`,
      [ctx.tenantId, ctx.shop.timeZone],
    );
    return {
      customers: rows.reduce((s, r) => s + r.customers, 0),
      gaps: rows.filter((r) => r.days !== null).map((r) => ({ days: r.days!, customers: r.customers })),
    };
  },
};

interface RfmRow {
  r: number | null;
  fm: number | null;
  rfm_group: RfmGroup;
  customers: number;
  revenue: string;
}

export const rfmRows = {
  rollups: (ctx: KokyakuContext) =>
    sql<RfmRow>(
      ctx.em,
      `select nullif(bucket / 10, 0)::int as r, nullif(bucket % 10, 0)::int as fm, label as rfm_group, sum(customers)::int as customers, sum(revenue_minor)::text as revenue
       from kokyaku.report_rollups where tenant_id = $1 and kind = 'rfm'
       group by bucket, label having sum(customers) <> 0 order by 1 desc nulls last, 2 desc, 3`,
      [ctx.tenantId],
    ),
  /** From every customer's facts and scores (the "orders" side: what the rollup is checked against). */
  orders: (ctx: KokyakuContext) =>
    sql<RfmRow>(
      ctx.em,
      `select s.recency_score as r, (s.frequency_score + s.monetary_score + 1) / 2 as fm, coalesce(s.rfm_group, 'PROSPECTS') as rfm_group,
              count(*)::int as customers, coalesce(sum(f.total_spent_minor), 0)::text as revenue
       from kokyaku.customer_facts f left join kokyaku.customer_scores s on s.tenant_id = f.tenant_id and s.customer_id = f.customer_id
       where f.tenant_id = $1
       group by 1, 2, 3 order by 1 desc nulls last, 2 desc, 3`,
      [ctx.tenantId],
    ),
};

interface DecileRow {
  decile: number;
  customers: number;
  revenue: string;
  min_spend: string;
  max_spend: string;
}

/**
 * `ntile(10)` over customers ranked by what they spent, from how many spent each amount (`spent`
 * from the highest, `customers` beside it): the first `n % 10` groups take one customer more, and
 * customers who spent the same may fall on both sides of a cut, which changes no figure of either
 * group. Sums are exact below 2^53 minor units.
 */
function decilesOf(spent: Float64Array, customers: Float64Array): DecileRow[] {
  let total = 0;
  for (const n of customers) total += n;
  const rows: DecileRow[] = [];
  let i = 0;
  let left = customers[0] ?? 0;
  for (let decile = 1; decile <= 10; decile++) {
    let size = Math.floor(total / 10) + (decile <= total % 10 ? 1 : 0);
    if (size === 0) break;
    const max = spent[i]!;
    let revenue = 0;
    let min = max;
    const members = size;
    while (size > 0) {
      const take = Math.min(size, left);
      revenue += take * spent[i]!;
      min = spent[i]!;
      size -= take;
      left -= take;
      if (left === 0 && ++i < spent.length) left = customers[i]!;
    }
    rows.push({ decile, customers: members, revenue: String(revenue), min_spend: String(min), max_spend: String(max) });
  }
  return rows;
}

export const decileRows = {
  /**
   * From the `spend` rollup rows (kept for the spend window only): how many customers spent each
   * amount, as one text of "amount customers" pairs (far cheaper to send and
   * read than a row per amount; a million customers spend some 100,000 different amounts), cut in
   * `decilesOf`.
   */
  rollups: async (ctx: KokyakuContext): Promise<DecileRow[]> => {
    const [row] = await sql<{ amounts: string | null }>(
      ctx.em,
      `select string_agg(x.bucket || ' ' || x.n, ' ' order by x.bucket) as amounts
       from (select bucket, sum(customers::int4) as n from kokyaku.report_rollups where tenant_id = $1 and kind = 'spend' group by bucket) x
       where x.n <> 0`,
      [ctx.tenantId],
    );
    // From the lowest (the order of the index, which needs no sort), read from the end.
    const words = row?.amounts ? row.amounts.split(' ') : [];
    const n = words.length / 2;
    const spent = new Float64Array(n);
    const customers = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      spent[i] = Number(words[2 * (n - 1 - i)]);
      customers[i] = Number(words[2 * (n - 1 - i) + 1]);
    }
    return decilesOf(spent, customers);
  },
  /** Customers ranked by what they spent in [from, end) (shop days $2, $3 in time zone $4). */
  orders: (ctx: KokyakuContext, from: string, end: string) =>
    sql<DecileRow>(
      ctx.em,
      `with spend as (
         select o.customer_id, sum(o.total_minor) as spent from kokyaku.orders o
         where o.tenant_id = $1 and o.status = 'PLACED'
           and o.placed_at >= ${dayStart('$2', '$4::text')} and o.placed_at < ${dayStart('$3', '$4::text')}
         group by o.customer_id
       ),
       ranked as (select spent, ntile(10) over (order by spent desc, customer_id) as decile from spend)
       select decile, count(*)::int as customers, sum(spent)::text as revenue, min(spent)::text as min_spend, max(spent)::text as max_spend
       from ranked group by decile order by decile`,
      [ctx.tenantId, from, end, ctx.shop.timeZone],
    ),
};
