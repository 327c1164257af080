import type { Kokyaku, OrderInput } from '@kokyaku/core';
import { SHOPPER } from '../packages/core/src/recommendations/recommendation.service.js';
import { RecommendationStore } from '../packages/core/src/recommendations/recommendation.store.js';
import { sql } from '../packages/core/src/shared/sql.js';
import { ms, percentile, time } from './stats.js';

/**
 * Recommendations over the seeded shop:
 * - the full rebuild from empty tables and again over current counts, beside one grouped pass over
 *   the order lines (the least any rebuild reads);
 * - lookups: the neighbour-list read in the database (server execution time from EXPLAIN ANALYZE,
 *   and the round trip), and whole `recommend` calls, beside the same "bought together" list
 *   computed on the fly from the order lines;
 * - incremental upkeep: orders recorded through `orders.record` in batches, with the time spent
 *   keeping the recommendation counts current measured inside the same calls, beside the same
 *   number of orders recorded with that upkeep switched off (the rest of ingestion), interleaved.
 */
export interface RecommendationBench {
  rows: { name: string; value: string; baseline: string; ratio: string }[];
  raw: Record<string, number>;
}

export async function benchRecommendations(
  kokyaku: Kokyaku,
  options: { customers: number; products: number; lookups: number; baselineLookups: number; incrementalOrders: number },
  log: (line: string) => void,
): Promise<RecommendationBench> {
  const ctx = kokyaku.context();
  const knex = kokyaku.orm.em.getKnex();
  const raw: Record<string, number> = {};
  const rows: RecommendationBench['rows'] = [];

  // Rebuild.
  const pass = await time(() =>
    knex.raw(`select l.product_id, count(*) from kokyaku.order_lines l join kokyaku.orders o on o.id = l.order_id where o.status = 'PLACED' group by 1`),
  );
  // From empty derived tables (a shop's first rebuild), then again over the counts ingestion keeps current.
  await knex.raw(`delete from kokyaku.customer_products where tenant_id = 'default'`);
  await knex.raw(`delete from kokyaku.product_daily where tenant_id = 'default'`);
  await knex.raw(`delete from kokyaku.product_pairs where tenant_id = 'default'`);
  await knex.raw('vacuum analyze kokyaku.customer_products, kokyaku.product_daily, kokyaku.product_pairs');
  const first = await time(() => kokyaku.recommendations.rebuild(ctx));
  await knex.raw('vacuum analyze kokyaku.product_neighbours, kokyaku.product_pairs, kokyaku.customer_products, kokyaku.product_stats, kokyaku.product_daily');
  const rebuild = await time(() => kokyaku.recommendations.rebuild(ctx));
  await knex.raw('vacuum analyze kokyaku.product_neighbours, kokyaku.product_stats');
  raw.firstRebuildMs = first;
  raw.rebuildMs = rebuild;
  raw.linesPassMs = pass;
  log(
    `  full rebuild: from empty tables ${(first / 1000).toFixed(1)} s, again ${(rebuild / 1000).toFixed(1)} s (one grouped pass over the order lines: ${(pass / 1000).toFixed(1)} s)`,
  );
  rows.push({
    name: 'full rebuild, from empty tables',
    value: `${(first / 1000).toFixed(1)} s`,
    baseline: `${(pass / 1000).toFixed(1)} s (one grouped pass over the lines)`,
    ratio: `${(first / pass).toFixed(1)}x the pass`,
  });
  rows.push({
    name: 'full rebuild again, counts current (goal ≤ 60 s)',
    value: `${(rebuild / 1000).toFixed(1)} s`,
    baseline: `${(pass / 1000).toFixed(1)} s (one grouped pass over the lines)`,
    ratio: `${(rebuild / pass).toFixed(1)}x the pass`,
  });

  // Lookups.
  const products = await knex.raw(`select id::text as id, external_id from kokyaku.products order by md5(id::text) limit ?`, [options.lookups]);
  const customers = await knex.raw(
    `select c.external_id from kokyaku.customers c join kokyaku.customer_facts f on f.customer_id = c.id where f.orders_count > 0 order by md5(c.id::text) limit ?`,
    [options.lookups],
  );
  const LOOKUP = `select neighbour_id, score, support from kokyaku.product_neighbours where kind = 'BOUGHT_TOGETHER' and product_id = ? order by rank limit 30`;
  const ON_THE_FLY = `
    select b.product_id, count(distinct a.order_id) as together
    from kokyaku.order_lines a
    join kokyaku.orders o on o.id = a.order_id and o.status = 'PLACED'
    join kokyaku.order_lines b on b.order_id = a.order_id and b.product_id <> a.product_id
    where a.tenant_id = 'default' and a.product_id = ?
    group by 1 order by 2 desc limit 30`;
  const server: number[] = [];
  const roundTrip: number[] = [];
  const together: number[] = [];
  const forCustomer: number[] = [];
  const forCustomerServer: number[] = [];
  const onTheFly: number[] = [];
  for (const [i, p] of (products.rows as { id: string; external_id: string }[]).entries()) {
    const plan = (await knex.raw(`explain (analyze, format json) ${LOOKUP}`, [p.id])).rows[0]['QUERY PLAN'][0];
    server.push(plan['Execution Time']);
    roundTrip.push(await time(() => knex.raw(LOOKUP, [p.id])));
    together.push(await time(() => kokyaku.recommendations.recommend(ctx, { productExternalId: p.external_id, strategy: 'BOUGHT_TOGETHER' })));
    const c = (customers.rows as { external_id: string }[])[i];
    if (c) {
      forCustomer.push(await time(() => kokyaku.recommendations.recommend(ctx, { customerExternalId: c.external_id, strategy: 'FOR_CUSTOMER' })));
      // The one statement a FOR_CUSTOMER request reads the customer with: their purchases (with
      // each product's cycle), orders, seeds, and the seeds' neighbour lists.
      const [plan] = await sql<{ 'QUERY PLAN': { 'Execution Time': number }[] }>(ctx.em, `explain (analyze, format json) ${SHOPPER}`, [
        ctx.tenantId,
        c.external_id,
        new Date().toISOString(),
      ]);
      forCustomerServer.push(plan!['QUERY PLAN'][0]!['Execution Time']);
    }
    if (i < options.baselineLookups) onTheFly.push(await time(() => knex.raw(ON_THE_FLY, [p.id])));
  }
  const p50 = (xs: number[]) => percentile(xs, 50);
  const p99 = (xs: number[]) => percentile(xs, 99);
  Object.assign(raw, {
    lookupServerP50Ms: p50(server),
    lookupServerP99Ms: p99(server),
    lookupRoundTripP50Ms: p50(roundTrip),
    lookupRoundTripP99Ms: p99(roundTrip),
    boughtTogetherP50Ms: p50(together),
    boughtTogetherP99Ms: p99(together),
    forCustomerP50Ms: p50(forCustomer),
    forCustomerP99Ms: p99(forCustomer),
    forCustomerServerP50Ms: p50(forCustomerServer),
    forCustomerServerP99Ms: p99(forCustomerServer),
    onTheFlyP50Ms: p50(onTheFly),
    onTheFlyP99Ms: p99(onTheFly),
  });
  const fly = `${ms(p50(onTheFly))} / ${ms(p99(onTheFly))} (on the fly from order lines, ${onTheFly.length} products)`;
  rows.push({
    name: 'neighbour lookup in the database, p50 / p99 (goal p99 ≤ 1 ms)',
    value: `${ms(p50(server))} / ${ms(p99(server))}`,
    baseline: fly,
    ratio: `${(p50(onTheFly) / p50(server)).toFixed(0)}x`,
  });
  rows.push({
    name: 'neighbour lookup round trip from Node, p50 / p99',
    value: `${ms(p50(roundTrip))} / ${ms(p99(roundTrip))}`,
    baseline: fly,
    ratio: `${(p50(onTheFly) / p50(roundTrip)).toFixed(0)}x`,
  });
  rows.push({
    name: 'recommend BOUGHT_TOGETHER (whole call), p50 / p99',
    value: `${ms(p50(together))} / ${ms(p99(together))}`,
    baseline: fly,
    ratio: `${(p50(onTheFly) / p50(together)).toFixed(0)}x`,
  });
  rows.push({
    name: "FOR_CUSTOMER's statement in the database, p50 / p99 (goal p99 ≤ 5 ms)",
    value: `${ms(p50(forCustomerServer))} / ${ms(p99(forCustomerServer))}`,
    baseline: fly,
    ratio: `${(p50(onTheFly) / p50(forCustomerServer)).toFixed(0)}x`,
  });
  rows.push({
    name: 'recommend FOR_CUSTOMER (whole call), p50 / p99',
    value: `${ms(p50(forCustomer))} / ${ms(p99(forCustomer))}`,
    baseline: fly,
    ratio: `${(p50(onTheFly) / p50(forCustomer)).toFixed(0)}x`,
  });
  for (const row of rows.slice(1)) log(`  ${row.name}: ${row.value} vs ${row.baseline}`);

  // Incremental upkeep.
  const apply = RecommendationStore.prototype.apply;
  let upkeepMs = 0;
  let upkeepOn = true;
  RecommendationStore.prototype.apply = async function (this: RecommendationStore, c, changes) {
    if (!upkeepOn) return;
    const started = performance.now();
    await apply.call(this, c, changes);
    upkeepMs += performance.now() - started;
  };
  const batchSize = 500;
  const makeOrders = (round: number, count: number): OrderInput[] =>
    Array.from({ length: count }, (_, i) => {
      const g = round * 1_000_000 + i + 1;
      const lineCount = 1 + ((g * 7) % 6);
      return {
        externalId: `bench-${round}-${i}`,
        customerExternalId: `C${1 + ((g * 40503) % options.customers)}`,
        placedAt: new Date(Date.now() - (g % 86_400) * 1000).toISOString(),
        lines: Array.from({ length: lineCount }, (_, k) => ({
          productExternalId: `P${1 + ((g * 31 + k * 977) % options.products)}`,
          quantity: 1 + (k % 2),
          unitPrice: 500 + ((g + k) % 50) * 100,
        })),
      };
    });
  let withMs = 0;
  let withoutMs = 0;
  let withOrders = 0;
  let withoutOrders = 0;
  try {
    for (let round = 0; round < 4; round++) {
      upkeepOn = round % 2 === 0;
      const orders = makeOrders(round + 1, options.incrementalOrders / 2);
      const started = performance.now();
      for (let i = 0; i < orders.length; i += batchSize) await kokyaku.orders.record(ctx, orders.slice(i, i + batchSize));
      const elapsed = performance.now() - started;
      if (upkeepOn) {
        withMs += elapsed;
        withOrders += orders.length;
      } else {
        withoutMs += elapsed;
        withoutOrders += orders.length;
      }
    }
  } finally {
    RecommendationStore.prototype.apply = apply;
  }
  // The catch-up folds the logged ownership changes of those orders and recomputes every stale list.
  const catchUp = await time(() => kokyaku.recommendations.catchUp(ctx));
  const upkeepRate = withOrders / (upkeepMs / 1000);
  const totalRate = withOrders / ((upkeepMs + catchUp) / 1000);
  const withRate = withOrders / (withMs / 1000);
  const withoutRate = withoutOrders / (withoutMs / 1000);
  Object.assign(raw, {
    upkeepOrdersPerSecond: upkeepRate,
    upkeepWithCatchUpOrdersPerSecond: totalRate,
    catchUpMs: catchUp,
    ingestWithOrdersPerSecond: withRate,
    ingestWithoutOrdersPerSecond: withoutRate,
    incrementalOrders: withOrders + withoutOrders,
  });
  const rest = `${Math.round(withoutRate).toLocaleString('en')}/s (the rest of ingestion: orders recorded with upkeep off)`;
  rows.push({
    name: `incremental upkeep in the ingestion transaction, orders/s (goal ≥ 5,000; ${withOrders.toLocaleString('en')} orders in batches of ${batchSize})`,
    value: `${Math.round(upkeepRate).toLocaleString('en')}/s`,
    baseline: rest,
    ratio: `${(upkeepRate / withoutRate).toFixed(1)}x`,
  });
  rows.push({
    name: `incremental upkeep including the catch-up (ownership folded, ${'every stale list recomputed'}: ${(catchUp / 1000).toFixed(1)} s), orders/s`,
    value: `${Math.round(totalRate).toLocaleString('en')}/s`,
    baseline: rest,
    ratio: `${(totalRate / withoutRate).toFixed(1)}x`,
  });
  rows.push({
    name: 'ingestion with upkeep, orders/s',
    value: `${Math.round(withRate).toLocaleString('en')}/s`,
    baseline: `${Math.round(withoutRate).toLocaleString('en')}/s (upkeep off)`,
    ratio: `${(withRate / withoutRate).toFixed(2)}x`,
  });
  for (const row of rows.slice(-3)) log(`  ${row.name}: ${row.value} vs ${row.baseline}`);
  return { rows, raw };
}
