import { type Kokyaku, type KokyakuContext, type OrderInput, createKokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from '../src/shared/sql.js';
import { slideSpendWindow, spendWindow, spendWindowIs } from '../src/analytics/rollups.js';
import { todayIn } from '../src/shared/dates.js';

/**
 * The report rollups against the reports computed from the orders (the RFM grid: from every
 * customer's facts and scores), on random shops: after every
 * random batch of new orders, cancellations, re-recorded orders (new lines, new day, another
 * customer), merges and concurrent writers, and again after the refresh folds the rollups, each
 * report read from the rollups equals the same report computed from scratch.
 */
let kokyaku: Kokyaku;
const TZ = 'Asia/Tokyo';

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: TZ } });
});

afterAll(async () => {
  await kokyaku?.close();
});

/** A deterministic generator per shop: a failure names its seed. */
function generator(seed: number) {
  let s = seed;
  const random = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]) => list[int(list.length)]!;
  return { random, int, pick };
}

interface Shop {
  ctx: () => KokyakuContext;
  orders: Map<string, OrderInput>;
  customers: string[];
  next: number;
  g: ReturnType<typeof generator>;
}

/** An order of a random customer on a random day of 2025-2026, often near midnight (the shop's days are Tokyo's). */
function newOrder(shop: Shop): OrderInput {
  const { int, pick, random } = shop.g;
  const day = new Date(Date.UTC(2025, 0, 1) + int(700) * 86_400_000);
  // 14:00-16:00 UTC is 23:00-01:00 in Tokyo: the two sides of the shop's midnight.
  const at = new Date(day.getTime() + (random() < 0.5 ? 14 * 3600_000 + int(7200) * 1000 : int(86_400) * 1000));
  return {
    externalId: `o${++shop.next}`,
    customerExternalId: pick(shop.customers),
    placedAt: at.toISOString(),
    lines: [{ productExternalId: `p${int(5)}`, quantity: 1 + int(3), unitPrice: 100 + int(5000) }],
  };
}

async function record(shop: Shop, orders: OrderInput[]) {
  const result = await kokyaku.orders.record(shop.ctx(), orders);
  expect(result.failed, JSON.stringify(result.errors)).toBe(0);
  for (const o of orders) shop.orders.set(o.externalId, o);
}

const STEPS = ['new', 'cancel', 'rerecord', 'merge', 'concurrent'] as const;

/** One random step: new orders, cancellations, re-records, a merge, or two writers at once; returns which. */
async function step(shop: Shop): Promise<(typeof STEPS)[number]> {
  const { int, pick, random } = shop.g;
  const existing = () => [...shop.orders.values()];
  const kind = pick(STEPS);
  if (kind === 'new') {
    // Several orders of one customer on one day too (a second order on the first day).
    const batch = Array.from({ length: 1 + int(30) }, () => newOrder(shop));
    const twin = { ...batch[0]!, externalId: `o${++shop.next}` };
    await record(shop, [...batch, twin]);
  } else if (kind === 'cancel') {
    await record(
      shop,
      Array.from({ length: 1 + int(6) }, () => ({ ...pick(existing()), status: random() < 0.8 ? ('CANCELLED' as const) : ('PLACED' as const) })),
    );
  } else if (kind === 'rerecord') {
    const changed = Array.from({ length: 1 + int(6) }, () => {
      const o = pick(existing());
      const other = newOrder(shop);
      const change = int(3);
      if (change === 0) return { ...o, lines: other.lines };
      if (change === 1) return { ...o, placedAt: other.placedAt };
      return { ...o, customerExternalId: other.customerExternalId };
    });
    await record(shop, changed);
  } else if (kind === 'merge') {
    const [a, b] = [pick(shop.customers), pick(shop.customers.filter((c) => c !== pick(shop.customers) || true))];
    if (a === b) return kind;
    const survivor = await kokyaku.customers.findByExternalId(shop.ctx(), a);
    const merged = await kokyaku.customers.findByExternalId(shop.ctx(), b);
    await kokyaku.identity.merge(shop.ctx(), survivor!.id, [merged!.id]);
    shop.customers = shop.customers.filter((c) => c !== b);
    // The merged customer's shop id now names the survivor.
    for (const [id, o] of shop.orders) if (o.customerExternalId === b) shop.orders.set(id, { ...o, customerExternalId: a });
  } else {
    // Two writers at once, sharing customers.
    await Promise.all(
      [0, 1].map(() =>
        record(
          shop,
          Array.from({ length: 5 + int(20) }, () => newOrder(shop)),
        ),
      ),
    );
  }
  return kind;
}

/** The decile report of [from, to] from the spend rows (kept for that window) equals the one from the orders. */
async function expectDeciles(ctx: KokyakuContext, window: { from: string; to: string }, label: string) {
  expect(await spendWindowIs(ctx, window), label).toBe(true);
  const fromRollups = await kokyaku.analytics.decileReport(ctx, { ...window, source: 'rollups' });
  expect(fromRollups, label).toEqual(await kokyaku.analytics.decileReport(ctx, { ...window, source: 'orders' }));
  expect(fromRollups.customers, label).toBeGreaterThan(10);
}

/** Every report from the rollups equals the one from the orders. */
async function expectEqual(ctx: KokyakuContext, label: string) {
  const both = async <T>(report: (source: 'rollups' | 'orders') => Promise<T>) => {
    const [fromRollups, fromOrders] = [await report('rollups'), await report('orders')];
    expect(fromRollups, label).toEqual(fromOrders);
    return fromRollups;
  };
  const range = { from: '2024-12-01', to: '2026-12-31' };
  for (const period of ['DAY', 'WEEK', 'MONTH'] as const) await both((source) => kokyaku.analytics.kpiReport(ctx, { ...range, period, source }));
  const partial = await both((source) => kokyaku.analytics.kpiReport(ctx, { from: '2025-03-17', to: '2025-08-13', period: 'WEEK', source }));
  expect(partial.from).toBe('2025-03-17');
  expect(partial.to).toBe('2025-08-17');
  await both((source) => kokyaku.analytics.kpiReport(ctx, { from: '2025-06-20', to: '2025-07-10', period: 'MONTH', source }));
  await both((source) => kokyaku.analytics.cohortReport(ctx, { ...range, source }));
  await both((source) => kokyaku.analytics.cohortReport(ctx, { from: '2025-04-15', to: '2025-09-10', source }));
  const repeat = await both((source) => kokyaku.analytics.repeatPurchaseReport(ctx, { source }));
  const rfm = await both((source) => kokyaku.analytics.rfmReport(ctx, { source }));
  expect(rfm.cells.length).toBeGreaterThan(3);
  // The decile report's default range: the 12 months to today, kept by the refresh.
  const deciles = await both((source) => kokyaku.analytics.decileReport(ctx, { source }));
  expect(deciles.from).toBe(spendWindow(todayIn(TZ)).from);
  await expectDeciles(ctx, spendWindow(todayIn(TZ)), label);
  expect(repeat.customers).toBeGreaterThan(0);
  // The stored days are the orders' days.
  const days = (table: string) =>
    sql(
      ctx.em,
      table === 'days'
        ? `select customer_id::text, day::text, orders, revenue_minor::text from kokyaku.customer_days where tenant_id = $1 order by 1, 2`
        : `select customer_id::text, (placed_at at time zone $2::text)::date::text as day, count(*)::int as orders, sum(total_minor)::text as revenue_minor
           from kokyaku.orders where tenant_id = $1 and status = 'PLACED' group by 1, 2 order by 1, 2`,
      table === 'days' ? [ctx.tenantId] : [ctx.tenantId, TZ],
    );
  expect(await days('days'), label).toEqual(await days('orders'));
}

/** A shop of 40 customers and 150 random orders (no refresh yet). */
async function openShop(tenantId: string, seed: number): Promise<Shop> {
  const shop: Shop = {
    ctx: () => kokyaku.context({ tenantId, actor: { id: 'staff', roles: ['ADMIN'] } }),
    orders: new Map(),
    customers: Array.from({ length: 40 }, (_, i) => `c${i}`),
    next: 0,
    g: generator(seed),
  };
  await kokyaku.customers.upsert(
    shop.ctx(),
    shop.customers.map((externalId) => ({ externalId })),
  );
  await record(
    shop,
    Array.from({ length: 150 }, () => newOrder(shop)),
  );
  return shop;
}

describe('report rollups', () => {
  for (const seed of [11, 2027, 90210]) {
    it(`equal the reports computed from the orders after random batches (shop ${seed})`, { timeout: 240_000 }, async () => {
      const tenantId = `rollups-${seed}`;
      const shop = await openShop(tenantId, seed);
      // Before the first refresh the reports are computed from the orders; the refresh builds the rollups.
      expect(await sql(shop.ctx().em, `select 1 from kokyaku.customer_days where tenant_id = $1`, [tenantId])).toEqual([]);
      await kokyaku.refresh();
      await expectEqual(shop.ctx(), `shop ${seed}, built`);
      const ran = new Set<string>();
      for (let i = 0; i < 25; i++) {
        ran.add(await step(shop));
        await expectEqual(shop.ctx(), `shop ${seed}, step ${i}`);
      }
      // Every kind of change happened on this shop.
      expect([...ran].sort()).toEqual([...STEPS].sort());
      const [{ rows }] = (await sql(shop.ctx().em, `select count(*)::int as rows from kokyaku.report_rollups where tenant_id = $1`, [tenantId])) as [{ rows: number }];
      await kokyaku.refresh();
      const [{ rows: folded }] = (await sql(shop.ctx().em, `select count(*)::int as rows from kokyaku.report_rollups where tenant_id = $1`, [tenantId])) as [{ rows: number }];
      expect(folded).toBeLessThan(rows);
      await expectEqual(shop.ctx(), `shop ${seed}, folded`);
      // The spend window moves (as the refresh moves it on each day, here by months, both ways),
      // writers keep the rows of the window where it is, and the refresh brings it back to today.
      for (const to of ['2026-03-31', '2026-04-02', '2025-12-31']) {
        const window = spendWindow(to);
        await slideSpendWindow(shop.ctx(), window);
        await expectDeciles(shop.ctx(), window, `shop ${seed}, window to ${to}`);
        await step(shop);
        await expectDeciles(shop.ctx(), window, `shop ${seed}, window to ${to}, written`);
      }
      await kokyaku.refresh();
      await expectEqual(shop.ctx(), `shop ${seed}, window back`);
    });
  }

  it('cut the deciles from the spend rows as ntile cuts the customers, ties across cuts and fewer than ten included', { timeout: 120_000 }, async () => {
    const tenantId = 'rollups-ntile';
    const ctx = kokyaku.context({ tenantId, actor: { id: 'staff', roles: ['ADMIN'] } });
    const window = spendWindow(todayIn(TZ));
    await sql(ctx.em, `insert into kokyaku.analytics_state (tenant_id, rollup_time_zone, spend_window_from, spend_window_to) values ($1, $2, $3, $4)`, [
      tenantId,
      TZ,
      window.from,
      window.to,
    ]);
    const { int } = generator(42);
    for (let round = 0; round < 60; round++) {
      const n = round < 12 ? round : int(400);
      // Few distinct amounts in some rounds: many customers spent the same.
      const distinct = 1 + int(round % 3 === 0 ? 4 : 5000);
      const spent = Array.from({ length: n }, () => int(distinct) * 100);
      await sql(ctx.em, `delete from kokyaku.report_rollups where tenant_id = $1`, [tenantId]);
      // As signed rows, some of them cancelling out, as writers leave them before the refresh folds them.
      await sql(
        ctx.em,
        `insert into kokyaku.report_rollups (tenant_id, kind, bucket, revenue_minor, customers)
         select $1, 'spend', x.spent, x.spent * x.customers, x.customers from jsonb_to_recordset($2::jsonb) as x(spent bigint, customers bigint)`,
        [tenantId, JSON.stringify([...spent.map((x) => ({ spent: x, customers: 1 })), { spent: 700, customers: 2 }, { spent: 700, customers: -2 }])],
      );
      // ntile(10) as PostgreSQL computes it, customer by customer.
      const sorted = [...spent].sort((a, b) => b - a);
      const expected = [];
      for (let decile = 1, at = 0; decile <= 10; decile++) {
        const size = Math.floor(n / 10) + (decile <= n % 10 ? 1 : 0);
        if (size === 0) break;
        const members = sorted.slice(at, (at += size));
        expected.push({ decile, customers: size, revenue: members.reduce((s, x) => s + x, 0), minSpend: members[size - 1], maxSpend: members[0] });
      }
      const report = await kokyaku.analytics.decileReport(ctx, { source: 'rollups' });
      expect(
        report.deciles.map(({ decile, customers, revenue, minSpend, maxSpend }) => ({ decile, customers, revenue, minSpend, maxSpend })),
        `round ${round}: ${n} customers`,
      ).toEqual(expected);
    }
  });

  it('get their spend rows at the next refresh when built before them', { timeout: 120_000 }, async () => {
    const tenantId = 'rollups-spend';
    const shop = await openShop(tenantId, 5);
    await kokyaku.refresh();
    const ctx = shop.ctx();
    // As a shop whose rollups were built before the spend rows existed.
    await sql(ctx.em, `delete from kokyaku.report_rollups where tenant_id = $1 and kind = 'spend'`, [tenantId]);
    await sql(ctx.em, `update kokyaku.analytics_state set spend_window_from = null, spend_window_to = null where tenant_id = $1`, [tenantId]);
    const window = spendWindow(todayIn(TZ));
    expect(await spendWindowIs(ctx, window)).toBe(false);
    // Computed from the orders meanwhile, new orders keep no spend rows yet.
    const fromOrders = await kokyaku.analytics.decileReport(ctx, { source: 'orders' });
    expect(await kokyaku.analytics.decileReport(ctx)).toEqual(fromOrders);
    await step(shop);
    await kokyaku.refresh();
    await expectDeciles(ctx, window, 'after the refresh');
  });

  it('are rebuilt for another time zone, and read the orders until then', { timeout: 120_000 }, async () => {
    const tenantId = 'rollups-tz';
    await openShop(tenantId, 7);
    // Built in the Tokyo days of this instance's shop.
    await kokyaku.refresh();
    const zone = async () =>
      (await sql<{ tz: string }>(kokyaku.context({ tenantId }).em, `select rollup_time_zone as tz from kokyaku.analytics_state where tenant_id = $1`, [tenantId]))[0]?.tz;
    expect(await zone()).toBe(TZ);
    const utc = await createKokyaku({ database: { url: kokyaku.databaseUrl }, shop: { currency: 'JPY', timeZone: 'UTC' } });
    try {
      const ctx = utc.context({ tenantId });
      const fromOrders = await utc.analytics.kpiReport(ctx, { from: '2025-01-01', to: '2026-12-31', period: 'DAY', source: 'orders' });
      // Cut in Tokyo's days: not used for a shop in UTC.
      expect(await utc.analytics.kpiReport(ctx, { from: '2025-01-01', to: '2026-12-31', period: 'DAY' })).toEqual(fromOrders);
      await utc.refresh();
      expect(await utc.analytics.kpiReport(ctx, { from: '2025-01-01', to: '2026-12-31', period: 'DAY', source: 'rollups' })).toEqual(fromOrders);
      expect(await zone()).toBe('UTC');
    } finally {
      await utc.close();
    }
  });
});
