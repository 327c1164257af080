import type { Kokyaku } from '@kokyaku/core';
import { ms, percentile, time } from './stats.js';

/**
 * Segment count: Kokyaku's compiled query over the customer facts, against the same filter
 * computed on the fly from orders and order lines (what a CRM without maintained facts does).
 * Rounds interleave the two so that machine noise hits both.
 */
/** Start of the shop day `offset` days from today, in the shop time zone (Asia/Tokyo). */
const day = (offset: number) => `((((now() at time zone 'Asia/Tokyo')::date + ${offset})::timestamp) at time zone 'Asia/Tokyo')`;

export const SEGMENT_QUERIES: { name: string; query: string; onTheFly: string }[] = [
  {
    name: 'lapsed repeat VIPs',
    query: "amount_spent >= 10000 AND number_of_orders >= 2 AND last_order_date < -90d AND customer_tags CONTAINS 'vip'",
    onTheFly: `spent >= 10000 and orders >= 2 and last_order_at < ${day(-90)} and tags @> array['vip']`,
  },
  {
    name: 'subscribed high-AOV newcomers in JP',
    query: "email_subscription_status = SUBSCRIBED AND country = 'JP' AND average_order_value > 8000 AND first_order_date > -180d",
    onTheFly: `email_consent and country = 'JP' and orders > 0 and round(spent::numeric / orders) > 8000 and first_order_at >= ${day(-179)}`,
  },
  {
    name: 'lapsed subscribed repeat buyers',
    query: 'number_of_orders >= 2 AND last_order_date < -90d AND amount_spent >= 10000 AND email_subscription_status = SUBSCRIBED',
    onTheFly: `orders >= 2 and last_order_at < ${day(-90)} and spent >= 10000 and email_consent`,
  },
  {
    name: 'one-time buyers of last month at example.jp',
    query: "number_of_orders = 1 AND last_order_date BETWEEN -60d AND -30d AND email_domain = 'example.jp' AND amount_spent > 3000",
    onTheFly: `orders = 1 and last_order_at >= ${day(-60)} and last_order_at < ${day(-29)} and split_part(email, '@', 2) = 'example.jp' and spent > 3000`,
  },
];

const ON_THE_FLY = (filter: string) => `
  select count(*)::int as n from (
    select c.id, c.tags, c.email, c.email_consent, c.country,
           count(distinct o.id) as orders, coalesce(sum(l.quantity * l.unit_price_minor), 0) as spent,
           min(o.placed_at) as first_order_at, max(o.placed_at) as last_order_at
    from kokyaku.customers c
    left join kokyaku.orders o on o.customer_id = c.id and o.status = 'PLACED'
    left join kokyaku.order_lines l on l.order_id = o.id
    where c.tenant_id = 'default'
    group by c.id, c.tenant_id
  ) facts where ${filter}`;

export interface SegmentBenchResult {
  name: string;
  query: string;
  count: number;
  kokyakuP50Ms: number;
  kokyakuP95Ms: number;
  onTheFlyP50Ms: number;
  speedup: number;
}

export async function benchSegments(kokyaku: Kokyaku, options: { rounds: number; baselineRounds: number }, log: (line: string) => void) {
  const ctx = kokyaku.context();
  const knex = kokyaku.orm.em.getKnex();
  const results: SegmentBenchResult[] = [];
  for (const q of SEGMENT_QUERIES) {
    // Warm-up, and a check that both sides agree before timing anything.
    const count = await kokyaku.segments.count(ctx, q.query);
    const baseline = ((await knex.raw(ON_THE_FLY(q.onTheFly))) as { rows: { n: number }[] }).rows[0]!.n;
    if (baseline !== count) throw new Error(`"${q.name}": Kokyaku counts ${count}, the on-the-fly baseline ${baseline}`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      ours.push(await time(() => kokyaku.segments.count(ctx, q.query)));
      if (round < options.baselineRounds) theirs.push(await time(() => knex.raw(ON_THE_FLY(q.onTheFly))));
    }
    const result = {
      name: q.name,
      query: q.query,
      count,
      kokyakuP50Ms: percentile(ours, 50),
      kokyakuP95Ms: percentile(ours, 95),
      onTheFlyP50Ms: percentile(theirs, 50),
      speedup: percentile(theirs, 50) / percentile(ours, 50),
    };
    log(
      `  ${q.name}: ${count} customers, Kokyaku p50 ${ms(result.kokyakuP50Ms)} (p95 ${ms(result.kokyakuP95Ms)}), on the fly p50 ${ms(result.onTheFlyP50Ms)}: ${result.speedup.toFixed(0)}x`,
    );
    results.push(result);
  }
  return results;
}
