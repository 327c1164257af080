import type { KokyakuContext } from '../shared/context.js';
import { addDays, addMonths, todayIn } from '../shared/dates.js';
import { sql, sqlOne, transaction } from '../shared/sql.js';

/**
 * The report rollups. Each customer's purchase days (`customer_days`: placed orders and revenue
 * per shop day) are the customer's whole contribution to the KPI, cohort and repeat-purchase
 * reports; what a set of customers contributes is a function of their days (`contributions`).
 * When customers' orders change, their contribution is taken out as it was and put back as it
 * is, as signed rows of `report_rollups`; a report sums the rows of its periods. Nothing is
 * updated in place, so concurrent writers never wait on each other's rollup rows; the refresh
 * folds the rows together (`compact`).
 *
 * Kinds of rows: `day`, `week`, `month` (per period: orders, revenue, buyers, buyers whose first
 * purchase day is in the period), `cohort` (per first-purchase month and month since: buyers),
 * `buyers` (customers with a purchase day), `gap` (per number of days from the first to the
 * second order: customers), `spend` (per amount spent in the spend window, the decile report's
 * default 12 months, bucket = the amount in minor units: customers and their revenue; the refresh
 * moves the window on to today, see `slideSpendWindow`), and `rfm` (per RFM cell, bucket = R * 10
 * + FM, and group: customers and their total spent; kept by triggers on the facts and scores, see
 * the migration).
 */

/** What every transaction touching the rollups takes first: shared, except a rebuild's. */
const LOCK = `hashtextextended('kokyaku.report_rollups:' || $1, 0)`;

/** The spend window the rollups are kept for, as SQL over tenant $1 (null: none yet). */
const STATE_WINDOW = {
  from: `(select a.spend_window_from from kokyaku.analytics_state a where a.tenant_id = $1)`,
  to: `(select a.spend_window_to from kokyaku.analytics_state a where a.tenant_id = $1)`,
};

/**
 * SQL: the `spend` rows of a days relation, times `sign`: its customers with a purchase day in
 * [from, to] (SQL dates; null: no window, no rows) by what they spent in it.
 */
function spendRows(days: string, sign: 1 | -1, window: { from: string; to: string }): string {
  return `
    select 'spend'::text as kind, null::date as period, w.spent as bucket, null::text as label, 0::bigint as orders,
           ${sign} * sum(w.spent) as revenue_minor, ${sign} * count(*) as customers, 0::bigint as new_customers
    from (
      select sum(d.revenue_minor)::bigint as spent from ${days} d
      where d.day between ${window.from} and ${window.to}
      group by d.customer_id
    ) w
    group by w.spent`;
}

/** The decile report's default range on a day: the 12 months to it. */
export function spendWindow(to: string): { from: string; to: string } {
  return { from: addDays(addMonths(to, -12), 1), to };
}

/** SQL: the rollup rows a days relation (customer_id, day, orders, revenue_minor) adds up to, times `sign`. */
function contributions(days: string, sign: 1 | -1): string {
  return `${periodContributions(days, sign)} union all ${spendRows(days, sign, STATE_WINDOW)}`;
}

function periodContributions(days: string, sign: 1 | -1): string {
  const monthsSince = `((extract(year from r.day) - extract(year from r.first_day)) * 12 + extract(month from r.day) - extract(month from r.first_day))::int`;
  return `
    select c.kind, c.period, c.bucket, null::text as label, ${sign} * c.orders as orders, ${sign} * c.revenue_minor as revenue_minor,
           ${sign} * c.customers as customers, ${sign} * c.new_customers as new_customers
    from (
      with ranked as (
        select d.customer_id, d.day, d.orders, d.revenue_minor,
               min(d.day) over c as first_day, sum(d.orders) over c as total_orders,
               row_number() over w as n, lead(d.day) over w as next_day
        from ${days} d
        window c as (partition by d.customer_id), w as (partition by d.customer_id order by d.day)
      )
      select p.kind, p.period, 0 as bucket, sum(p.orders)::bigint as orders, sum(p.revenue_minor)::bigint as revenue_minor,
             count(*) as customers, count(*) filter (where p.first) as new_customers
      from (
        select u.kind::text as kind, date_trunc(u.kind, r.day::timestamp)::date as period, r.customer_id,
               sum(r.orders) as orders, sum(r.revenue_minor) as revenue_minor,
               bool_or(date_trunc(u.kind, r.first_day::timestamp) = date_trunc(u.kind, r.day::timestamp)) as first
        from ranked r cross join (values ('day'), ('week'), ('month')) as u(kind)
        group by 1, 2, 3
      ) p
      group by 1, 2
      union all
      select 'cohort'::text, m.cohort, m.since, 0, 0, count(*), 0
      from (select distinct r.customer_id, date_trunc('month', r.first_day::timestamp)::date as cohort, ${monthsSince} as since from ranked r) m
      group by 1, 2, 3
      union all
      select 'buyers', null::date, 0, 0, 0, count(*), 0 from ranked r where r.n = 1
      union all
      select 'gap', null::date, case when r.orders >= 2 then 0 else r.next_day - r.day end, 0, 0, count(*), 0
      from ranked r where r.n = 1 and r.total_orders >= 2 group by 1, 2, 3
    ) c`;
}

/** Every customer (a facts row) in the RFM cell and group of its scores (none: PROSPECTS), with its total spent. */
const RFM_CELLS = `
  select 'rfm' as kind, null::date as period,
         coalesce(s.recency_score, 0) * 10 + coalesce((s.frequency_score + s.monetary_score + 1) / 2, 0) as bucket,
         coalesce(s.rfm_group, 'PROSPECTS') as label, 0 as orders, coalesce(f.total_spent_minor, 0) as revenue_minor, 1 as customers, 0 as new_customers
  from kokyaku.customer_facts f left join kokyaku.customer_scores s on s.tenant_id = f.tenant_id and s.customer_id = f.customer_id
  where f.tenant_id = $1`;

/** SQL: inserts the net of the `select`ed signed rows (tenant $1), leaving out what adds up to nothing. */
const insertNet = (rows: string) => `
  insert into kokyaku.report_rollups (tenant_id, kind, period, bucket, label, orders, revenue_minor, customers, new_customers)
  select $1, x.kind, x.period, x.bucket, x.label, sum(x.orders), sum(x.revenue_minor), sum(x.customers), sum(x.new_customers)
  from (${rows}) x
  group by x.kind, x.period, x.bucket, x.label
  having sum(x.orders) <> 0 or sum(x.revenue_minor) <> 0 or sum(x.customers) <> 0 or sum(x.new_customers) <> 0`;

/** The days of the customers $3 (JSON ids) as their placed orders make them now, in time zone $2. */
const DAYS_FROM_ORDERS = `
  select o.customer_id, (o.placed_at at time zone $2::text)::date as day, count(*)::int as orders, sum(o.total_minor)::bigint as revenue_minor
  from kokyaku.orders o
  where o.tenant_id = $1 and o.status = 'PLACED' and o.customer_id = any(kokyaku.json_bigints($3::jsonb))
  group by 1, 2`;

/**
 * Replaces the days of customers $3 with `next` (a relation over old_days), and adds the change
 * of their contribution, in one statement: every part reads the days as they were before it.
 * Does nothing unless the rollups are built in time zone $2.
 */
const replaceDays = (next: string) => `
  with built as (select 1 from kokyaku.analytics_state where tenant_id = $1 and rollup_time_zone = $2::text),
  old_days as (
    select d.customer_id, d.day, d.orders, d.revenue_minor from kokyaku.customer_days d
    where d.tenant_id = $1 and d.customer_id = any(kokyaku.json_bigints($3::jsonb)) and exists (select 1 from built)
  ),
  new_days as (select n.* from (${next}) n where exists (select 1 from built)),
  gone as (
    delete from kokyaku.customer_days d using old_days o
    where d.tenant_id = $1 and d.customer_id = o.customer_id and d.day = o.day
      and not exists (select 1 from new_days n where n.customer_id = o.customer_id and n.day = o.day)
  ),
  put as (
    insert into kokyaku.customer_days as d (tenant_id, customer_id, day, orders, revenue_minor)
    select $1, n.customer_id, n.day, n.orders, n.revenue_minor from new_days n
    on conflict (tenant_id, customer_id, day) do update set orders = excluded.orders, revenue_minor = excluded.revenue_minor
    where (d.orders, d.revenue_minor) is distinct from (excluded.orders, excluded.revenue_minor)
  )
  ${insertNet(`${contributions('old_days', -1)} union all ${contributions('new_days', 1)}`)}`;

/** The survivor ($4) gets the days of every merged customer added to its own. */
const MERGED_DAYS = `
  select $4::bigint as customer_id, o.day, sum(o.orders)::int as orders, sum(o.revenue_minor)::bigint as revenue_minor
  from old_days o group by o.day`;

async function lockShared(ctx: KokyakuContext): Promise<void> {
  await sql(ctx.em, `select pg_advisory_xact_lock_shared(${LOCK})`, [ctx.tenantId]);
}

/** Whether the rollups are built, and in the shop's time zone. */
export async function rollupsReady(ctx: KokyakuContext): Promise<boolean> {
  const row = await sqlOne<{ tz: string | null }>(ctx.em, `select rollup_time_zone as tz from kokyaku.analytics_state where tenant_id = $1`, [ctx.tenantId]);
  return row?.tz === ctx.shop.timeZone;
}

/** Whether the spend rows are kept for [from, to] (and the rollups built in the shop's time zone). */
export async function spendWindowIs(ctx: KokyakuContext, window: { from: string; to: string }): Promise<boolean> {
  const row = await sqlOne<{ yes: boolean }>(
    ctx.em,
    `select true as yes from kokyaku.analytics_state where tenant_id = $1 and rollup_time_zone = $2 and spend_window_from = $3::date and spend_window_to = $4::date`,
    [ctx.tenantId, ctx.shop.timeZone, window.from, window.to],
  );
  return Boolean(row?.yes);
}

/** Brings the rollups in step with these customers' placed orders (in the transaction that changed them). */
export async function ordersChanged(ctx: KokyakuContext, customerIds: readonly string[]): Promise<void> {
  if (customerIds.length === 0) return;
  await transaction(ctx, async (em) => {
    const tx = { ...ctx, em };
    await lockShared(tx);
    await sql(em, replaceDays(DAYS_FROM_ORDERS), [ctx.tenantId, ctx.shop.timeZone, JSON.stringify([...new Set(customerIds)])]);
  });
}

/**
 * A merge: the merged customers' days are added to the survivor's (before their orders move), and
 * their scores go now, while their facts are there (deleted together by the cascade, each table's
 * trigger would miss the other's row and count them out of the wrong RFM cell).
 */
export async function customersMerged(ctx: KokyakuContext, survivorId: string, mergedIds: readonly string[]): Promise<void> {
  await lockShared(ctx);
  await sql(ctx.em, `delete from kokyaku.customer_scores where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))`, [ctx.tenantId, JSON.stringify(mergedIds)]);
  await sql(ctx.em, replaceDays(MERGED_DAYS), [ctx.tenantId, ctx.shop.timeZone, JSON.stringify([survivorId, ...mergedIds]), survivorId]);
}

/**
 * Builds the rollups from the orders, in the shop's time zone, in one transaction that writers
 * wait for (they hold the lock shared). Run by the refresh when they are missing or were cut in
 * another time zone.
 */
export async function rebuildRollups(ctx: KokyakuContext, now?: Date): Promise<void> {
  const window = spendWindow(todayIn(ctx.shop.timeZone, now));
  await transaction(ctx, async (em) => {
    await sql(em, `select pg_advisory_xact_lock(${LOCK})`, [ctx.tenantId]);
    await sql(
      em,
      `insert into kokyaku.analytics_state (tenant_id, spend_window_from, spend_window_to) values ($1, $2, $3)
       on conflict (tenant_id) do update set spend_window_from = excluded.spend_window_from, spend_window_to = excluded.spend_window_to`,
      [ctx.tenantId, window.from, window.to],
    );
    await sql(em, `delete from kokyaku.report_rollups where tenant_id = $1`, [ctx.tenantId]);
    await sql(em, `delete from kokyaku.customer_days where tenant_id = $1`, [ctx.tenantId]);
    await sql(
      em,
      `insert into kokyaku.customer_days (tenant_id, customer_id, day, orders, revenue_minor)
       select $1, o.customer_id, (o.placed_at at time zone $2::text)::date, count(*), sum(o.total_minor)
       from kokyaku.orders o where o.tenant_id = $1 and o.status = 'PLACED'
       group by 2, 3`,
      [ctx.tenantId, ctx.shop.timeZone],
    );
    await sql(em, insertNet(contributions(`(select * from kokyaku.customer_days where tenant_id = $1)`, 1)), [ctx.tenantId]);
    // The RFM grid (kept by triggers on the facts and scores from now on).
    await sql(em, insertNet(RFM_CELLS), [ctx.tenantId]);
    await sql(
      em,
      `insert into kokyaku.analytics_state (tenant_id, rollup_time_zone, rollups_built_at) values ($1, $2, now())
       on conflict (tenant_id) do update set rollup_time_zone = excluded.rollup_time_zone, rollups_built_at = excluded.rollups_built_at`,
      [ctx.tenantId, ctx.shop.timeZone],
    );
  });
}

/** Folds the signed rows of each period together (concurrent writers go on adding theirs). */
export async function compactRollups(ctx: KokyakuContext): Promise<void> {
  await transaction(ctx, async (em) => {
    await lockShared({ ...ctx, em });
    await sql(
      em,
      `with gone as (
         delete from kokyaku.report_rollups where tenant_id = $1
         returning kind, period, bucket, label, orders, revenue_minor, customers, new_customers
       )
       ${insertNet('select * from gone')}`,
      [ctx.tenantId],
    );
  });
}

/**
 * Moves the spend window to [from, to]: the customers with a purchase day in one window and not
 * the other are taken out as they were and put back as they are, in one transaction that writers
 * wait for (their statements read the window). Nothing to do when it is there already.
 */
export async function slideSpendWindow(ctx: KokyakuContext, window: { from: string; to: string }): Promise<void> {
  const read = (em: KokyakuContext['em']) =>
    sqlOne<{ from: string | null; to: string | null }>(
      em,
      `select to_char(spend_window_from, 'YYYY-MM-DD') as from, to_char(spend_window_to, 'YYYY-MM-DD') as to from kokyaku.analytics_state where tenant_id = $1`,
      [ctx.tenantId],
    );
  const there = (current: { from: string | null; to: string | null } | undefined) => !current || (current.from === window.from && current.to === window.to);
  await transaction(ctx, async (em) => {
    // Writers wait only when the window moves (once a day).
    if (there(await read(em))) return;
    await sql(em, `select pg_advisory_xact_lock(${LOCK})`, [ctx.tenantId]);
    const current = await read(em);
    if (there(current)) return;
    const before = { from: '$2::date', to: '$3::date' };
    const after = { from: '$4::date', to: '$5::date' };
    await sql(
      em,
      `with moved as (
         select distinct d.customer_id from kokyaku.customer_days d
         where d.tenant_id = $1 and coalesce(d.day between $2::date and $3::date, false) <> (d.day between $4::date and $5::date)
       ),
       days as (
         select d.customer_id, d.day, d.revenue_minor from kokyaku.customer_days d
         where d.tenant_id = $1 and d.customer_id in (select customer_id from moved)
       )
       ${insertNet(`${spendRows('days', -1, before)} union all ${spendRows('days', 1, after)}`)}`,
      [ctx.tenantId, current!.from, current!.to, window.from, window.to],
    );
    await sql(em, `update kokyaku.analytics_state set spend_window_from = $2, spend_window_to = $3 where tenant_id = $1`, [ctx.tenantId, window.from, window.to]);
  });
}

/**
 * The refresh's step: builds the rollups if they are missing or in another time zone, else moves
 * the spend window on to today and folds them.
 */
export async function refreshRollups(ctx: KokyakuContext, now?: Date): Promise<void> {
  if (!(await rollupsReady(ctx))) return rebuildRollups(ctx, now);
  await slideSpendWindow(ctx, spendWindow(todayIn(ctx.shop.timeZone, now)));
  await compactRollups(ctx);
}
