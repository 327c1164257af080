import type { Kokyaku, OrderInput } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from '../src/shared/sql.js';

/**
 * A planted shop: coffee is bought with filters and tea with cookies, while a few filler products
 * are in most baskets (so raw co-purchase counts point at fillers, not at the planted partners).
 */
let kokyaku: Kokyaku;
let tuned: Awaited<ReturnType<Kokyaku['recommendations']['tuneBlend']>>;
const ctx = (tenantId?: string) => kokyaku.context({ tenantId });
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const products = [
  { externalId: 'coffee', name: 'Coffee beans', price: 1800, categories: ['coffee'], tags: ['roasted'] },
  { externalId: 'filter', name: 'Paper filters', price: 400, categories: ['equipment'], tags: ['paper'] },
  { externalId: 'tea', name: 'Sencha', price: 1200, categories: ['tea'], tags: ['japan'] },
  { externalId: 'cookie', name: 'Butter cookies', price: 900, categories: ['sweets'], tags: [] },
  { externalId: 'mug', name: 'Mug', price: 2000, categories: ['tableware'], tags: [] },
  { externalId: 'sofa', name: 'Sofa', price: 90000, categories: ['furniture'], tags: ['living'] },
  { externalId: 'armchair', name: 'Armchair', price: 60000, categories: ['furniture'], tags: ['living'] },
  { externalId: 'newtea', name: 'Hojicha (new)', price: 1100, categories: ['tea'], tags: ['japan'] },
  ...Array.from({ length: 6 }, (_, i) => ({ externalId: `filler${i}`, name: `Staple ${i}`, price: 300, categories: ['misc'], tags: [] })),
];

function plantedOrders(): OrderInput[] {
  let seed = 11;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const orders: OrderInput[] = [];
  let n = 0;
  for (let c = 0; c < 160; c++) {
    const baskets = 2 + Math.floor(random() * 4);
    const likesCoffee = c % 2 === 0;
    for (let b = 0; b < baskets; b++) {
      // filler0 is in nearly every basket: the best seller that raw counts would always suggest.
      const items = new Set<string>([...(random() < 0.9 ? ['filler0'] : []), `filler${1 + Math.floor(random() * 5)}`]);
      if (likesCoffee && random() < 0.7) {
        items.add('coffee');
        if (random() < 0.6) items.add('filter');
      }
      if (!likesCoffee && random() < 0.7) {
        items.add('tea');
        if (random() < 0.6) items.add('cookie');
      }
      if (random() < 0.05) items.add('mug');
      orders.push({
        externalId: `o${++n}`,
        customerExternalId: `c${c}`,
        placedAt: ago(20 + Math.floor(random() * 300)),
        lines: [...items].map((p) => ({ productExternalId: p, quantity: 1, unitPrice: products.find((x) => x.externalId === p)!.price })),
      });
    }
  }
  // Furniture is bought once: 30 customers, one piece each.
  for (let c = 0; c < 30; c++) {
    orders.push({
      externalId: `f${c}`,
      customerExternalId: `c${c}`,
      placedAt: ago(100),
      lines: [{ productExternalId: c % 3 === 0 ? 'armchair' : 'sofa', quantity: 1, unitPrice: 90000 }],
    });
  }
  return orders;
}

const ids = (recs: { product: { externalId: string } }[]) => recs.map((r) => r.product.externalId);

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY' } });
  await kokyaku.products.upsert(ctx(), products);
  const orders = plantedOrders();
  for (let i = 0; i < orders.length; i += 200) await kokyaku.orders.record(ctx(), orders.slice(i, i + 200));
  tuned = await kokyaku.recommendations.tuneBlend(ctx());
});
afterAll(() => kokyaku?.close());

async function tableState() {
  const em = ctx().em;
  return {
    customerProducts: await sql(em, `select customer_id, product_id, orders, quantity, first_at, last_at from kokyaku.customer_products order by 1, 2`),
    stats: await sql(em, `select product_id, baskets, customers, repeat_customers from kokyaku.product_stats where baskets > 0 or customers > 0 order by 1`),
    daily: await sql(em, `select product_id, day, baskets, quantity from kokyaku.product_daily where baskets <> 0 or quantity <> 0 order by 1, 2`),
    pairs: await sql(em, `select product_a, product_b, baskets, customers from kokyaku.product_pairs where baskets <> 0 or customers <> 0 order by 1, 2`),
    neighbours: await sql(em, `select product_id, kind, rank, neighbour_id, score from kokyaku.product_neighbours order by 1, 2, 3`),
  };
}

describe('incremental counts', () => {
  it('equal a rebuild from the orders', async () => {
    // Some churn first: cancellations, a re-lined order, an order moved to another customer.
    await kokyaku.orders.record(ctx(), [
      { externalId: 'o1', customerExternalId: 'c0', placedAt: ago(50), status: 'CANCELLED', lines: [{ productExternalId: 'coffee', quantity: 1, unitPrice: 1800 }] },
      {
        externalId: 'o2',
        customerExternalId: 'c0',
        placedAt: ago(40),
        lines: [
          { productExternalId: 'mug', quantity: 2, unitPrice: 2000 },
          { productExternalId: 'tea', quantity: 1, unitPrice: 1200 },
        ],
      },
      { externalId: 'o3', customerExternalId: 'c9', placedAt: ago(30), lines: [{ productExternalId: 'cookie', quantity: 1, unitPrice: 900 }] },
    ]);
    // Ownership changes wait in the log for a catch-up; the churned products' lists are stale.
    const [logged] = await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.customer_product_changes`);
    expect(logged!.n).toBeGreaterThan(0);
    const churned = (await sql<{ id: string }>(ctx().em, `select id::text as id from kokyaku.products where external_id in ('coffee', 'mug', 'tea', 'cookie')`)).map((r) => r.id);
    const stale = (await sql<{ product_id: string }>(ctx().em, `select product_id::text as product_id from kokyaku.product_neighbours_stale`)).map((r) => r.product_id);
    expect(stale).toEqual(expect.arrayContaining(churned));
    expect(await kokyaku.recommendations.catchUp(ctx())).toBeGreaterThanOrEqual(stale.length);
    const [left] = await sql<{ n: number }>(
      ctx().em,
      `select (select count(*) from kokyaku.customer_product_changes) + (select count(*) from kokyaku.product_neighbours_stale) as n`,
    );
    expect(Number(left!.n)).toBe(0);
    const incremental = await tableState();
    await kokyaku.recommendations.rebuild(ctx());
    const rebuilt = await tableState();
    const { neighbours: a, ...countsA } = incremental;
    const { neighbours: b, ...countsB } = rebuilt;
    expect(countsA).toEqual(countsB);
    // The lists recomputed from the incremental counts are the rebuild's lists. (Lists of other
    // products may still carry partners' old totals in their scores until the rebuild.)
    const of = (rows: typeof a) => rows.filter((r) => churned.includes(String((r as { product_id: string }).product_id)));
    expect(of(a).length).toBeGreaterThan(0);
    expect(of(a)).toEqual(of(b));
    expect(new Set(a.map((r) => r.product_id)).size).toBeGreaterThan(8);
  });
  it('are brought back to the orders by a rebuild, which rewrites only the rows that differ', async () => {
    // One product on two lines of an order: one basket of it, both quantities.
    await kokyaku.orders.record(ctx(), [
      {
        externalId: 'two-lines',
        customerExternalId: 'c3',
        placedAt: ago(5),
        lines: [
          { productExternalId: 'tea', quantity: 2, unitPrice: 1200 },
          { productExternalId: 'tea', quantity: 3, unitPrice: 1200 },
        ],
      },
    ]);
    await kokyaku.recommendations.catchUp(ctx());
    const em = ctx().em;
    const { neighbours: _, ...kept } = await tableState();
    const [tea] = await sql<{ baskets: number; quantity: number }>(
      em,
      `select d.baskets, d.quantity from kokyaku.product_daily d join kokyaku.products p on p.id = d.product_id
       where p.external_id = 'tea' and d.day = (select (placed_at at time zone $1)::date from kokyaku.orders where external_id = 'two-lines')`,
      [ctx().shop.timeZone],
    );
    // No other order of the shop is that recent.
    expect(tea).toEqual({ baskets: 1, quantity: 5 });
    // Damage: rows changed, a row gone, rows for something never bought or a day without orders.
    const rows = await sql<{ customer_id: string; product_id: string; version: string }>(
      em,
      `select customer_id::text as customer_id, product_id::text as product_id, xmin::text as version
       from kokyaku.customer_products where tenant_id = 'default' order by 1, 2 limit 3`,
    );
    const at = (r: (typeof rows)[number]) => [r.customer_id, r.product_id];
    await sql(em, `update kokyaku.customer_products set orders = orders + 5 where customer_id = $1 and product_id = $2`, at(rows[0]!));
    await sql(em, `delete from kokyaku.customer_products where customer_id = $1 and product_id = $2`, at(rows[1]!));
    await sql(
      em,
      `insert into kokyaku.customer_products (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
       select c.id, p.id, 'default', 1, 1, now(), now() from kokyaku.customers c, kokyaku.products p
       where c.external_id = 'c0' and c.tenant_id = 'default' and p.external_id = 'newtea' and p.tenant_id = 'default'`,
    );
    await sql(em, `update kokyaku.product_daily set baskets = baskets + 1 where product_id = (select min(product_id) from kokyaku.product_daily)`);
    await sql(
      em,
      `insert into kokyaku.product_daily (product_id, day, tenant_id, baskets, quantity)
       select id, date '2001-01-01', 'default', 3, 3 from kokyaku.products where external_id = 'sofa' and tenant_id = 'default'`,
    );
    await sql(em, `update kokyaku.product_pairs set customers = customers + 2 where (product_a, product_b) = (select product_a, product_b from kokyaku.product_pairs limit 1)`);
    await sql(
      em,
      `insert into kokyaku.product_pairs (product_a, product_b, tenant_id, baskets, customers)
       select a.id, b.id, 'default', 1, 1 from kokyaku.products a, kokyaku.products b
       where a.external_id = 'newtea' and b.external_id = 'sofa' and a.tenant_id = 'default' and b.tenant_id = 'default'`,
    );
    await kokyaku.recommendations.rebuild(ctx());
    const { neighbours: __, ...rebuilt } = await tableState();
    expect(rebuilt).toEqual(kept);
    // A row that was right is left as it was (the same row version), not deleted and written again.
    const [untouched] = await sql<{ version: string }>(em, `select xmin::text as version from kokyaku.customer_products where customer_id = $1 and product_id = $2`, at(rows[2]!));
    expect(untouched!.version).toBe(rows[2]!.version);
  });

  it('measure how often each category is bought again as the statement over every customer product does', async () => {
    const tenant = 'repurchase';
    const c = ctx(tenant);
    await kokyaku.products.upsert(c, [
      { externalId: 'rice', name: 'Rice', price: 2000, categories: ['food', 'staples'] },
      { externalId: 'miso', name: 'Miso', price: 600, categories: ['food'] },
      { externalId: 'bowl', name: 'Bowl', price: 1500, categories: ['tableware'] },
      { externalId: 'card', name: 'Gift card', price: 5000, categories: [] },
    ]);
    const buys: [customer: string, product: string][] = [
      ['r1', 'rice'],
      ['r1', 'rice'], // bought again
      ['r2', 'rice'],
      ['r2', 'miso'], // twice in food, nothing again
      ['r3', 'bowl'], // once
      ['r4', 'card'],
      ['r4', 'card'], // again, in no category
      ['r5', 'bowl'],
      ['r5', 'miso'],
    ];
    await kokyaku.orders.record(
      c,
      buys.map(([customer, product], i) => ({
        externalId: `rp${i}`,
        customerExternalId: customer,
        placedAt: ago(10 + i),
        lines: [{ productExternalId: product, quantity: 1, unitPrice: 1000 }],
      })),
    );
    // The rates as one statement computes them from every customer product of the tenant.
    const [oracle] = await sql<{ rates: { shop: number; byCategory: Record<string, number> } }>(
      c.em,
      `with per_customer as (
         select cp.customer_id, p.categories[1] as category, grouping(p.categories[1]) = 1 as is_total,
                sum(cp.orders) as purchases, bool_or(cp.orders >= 2) as rebought
         from kokyaku.customer_products cp join kokyaku.products p on p.id = cp.product_id
         where cp.tenant_id = $1
         group by grouping sets ((cp.customer_id, p.categories[1]), (cp.customer_id))
       ),
       rates as (
         select category, is_total,
                coalesce(count(*) filter (where rebought)::float8 / nullif(count(*) filter (where purchases >= 2), 0), 0) as rate
         from per_customer group by category, is_total
       )
       select jsonb_build_object(
                'shop', coalesce((select rate from rates where is_total), 0),
                'byCategory', coalesce((select jsonb_object_agg(category, rate) from rates where not is_total and category is not null), '{}'::jsonb)) as rates`,
      [tenant],
    );
    expect(oracle!.rates).toEqual({ shop: 2 / 4, byCategory: { food: 1 / 2, tableware: 0 } });
    const stored = async () => (await sql<{ repurchase: unknown }>(c.em, `select repurchase from kokyaku.recommendation_state where tenant_id = $1`, [tenant]))[0]?.repurchase;
    // Measured on first use (before any rebuild) and by the rebuild: the same figures.
    const rates = await kokyaku.recommendations.repurchaseRates(c);
    expect({ shop: rates.shop, byCategory: Object.fromEntries(rates.byCategory) }).toEqual(oracle!.rates);
    await kokyaku.recommendations.rebuild(c);
    expect(await stored()).toEqual(oracle!.rates);
  });
});

describe('catch-up', () => {
  it('folds ownership changes exactly while orders keep arriving and other catch-ups run', async () => {
    const tenant = 'catch-up';
    await kokyaku.products.upsert(ctx(tenant), products);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const pick = () => products[Math.floor(random() * products.length)]!.externalId;
    const batch = (b: number): OrderInput[] =>
      Array.from({ length: 40 }, (_, i) => ({
        // Re-records and cancellations of earlier orders too: ownership is lost as well as gained.
        externalId: `k${b % 3 === 2 ? b - 1 : b}-${i}`,
        customerExternalId: `kc${Math.floor(random() * 25)}`,
        placedAt: ago(1 + Math.floor(random() * 60)),
        status: b % 3 === 2 && i % 4 === 0 ? ('CANCELLED' as const) : ('PLACED' as const),
        lines: Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({ productExternalId: pick(), quantity: 1, unitPrice: 1000 })),
      }));
    const work: Promise<unknown>[] = [];
    for (let b = 0; b < 9; b++) {
      // Batches run concurrently, re-records and cancellations of the same orders too.
      work.push(kokyaku.orders.record(ctx(tenant), batch(b)));
      work.push(kokyaku.recommendations.catchUp(ctx(tenant)));
    }
    await Promise.all(work);
    await kokyaku.recommendations.catchUp(ctx(tenant));
    const pairs = () =>
      sql(ctx(tenant).em, `select product_a, product_b, baskets, customers from kokyaku.product_pairs where tenant_id = $1 and (baskets <> 0 or customers <> 0) order by 1, 2`, [
        tenant,
      ]);
    const incremental = await pairs();
    await kokyaku.recommendations.rebuild(ctx(tenant));
    expect(incremental.length).toBeGreaterThan(20);
    expect(incremental).toEqual(await pairs());
  });

  it('is rebuilt by the refresh only after the orders or the products changed', async () => {
    const c = ctx('rebuilds');
    const rebuiltAt = async () =>
      (await sql<{ at: string | null }>(c.em, `select rebuilt_at::text as at from kokyaku.recommendation_state where tenant_id = 'rebuilds'`))[0]?.at ?? null;
    const order = (id: string, customer: string, status: 'PLACED' | 'CANCELLED' = 'PLACED') => ({
      externalId: id,
      customerExternalId: customer,
      placedAt: ago(2),
      status,
      lines: [
        { productExternalId: 'tea', quantity: 1, unitPrice: 1200 },
        { productExternalId: 'pot', quantity: 1, unitPrice: 3000 },
      ],
    });
    await kokyaku.orders.record(c, [order('r-1', 'rc-1'), order('r-2', 'rc-2')]);
    expect(await kokyaku.recommendations.refresh(c)).toBe('rebuilt');
    const first = await rebuiltAt();
    expect(first).not.toBeNull();
    expect(await kokyaku.recommendations.refresh(c)).toBe('unchanged');
    expect(await rebuiltAt()).toBe(first);
    const changes: [string, () => Promise<unknown>][] = [
      ['a new order', () => kokyaku.orders.record(c, [order('r-3', 'rc-3')])],
      ['a cancellation', () => kokyaku.orders.record(c, [order('r-3', 'rc-3', 'CANCELLED')])],
      ['a catalog change', () => kokyaku.products.upsert(c, [{ externalId: 'tea', name: 'Green tea', price: 1200 }])],
      [
        'a merge',
        async () => {
          const [keep, gone] = await Promise.all([kokyaku.customers.findByExternalId(c, 'rc-1'), kokyaku.customers.findByExternalId(c, 'rc-2')]);
          await kokyaku.identity.merge(c, keep!.id, [gone!.id]);
        },
      ],
    ];
    for (const [what, change] of changes) {
      await change();
      expect(await kokyaku.recommendations.refresh(c), what).toBe('rebuilt');
      expect(await kokyaku.recommendations.refresh(c), `${what}, again`).toBe('unchanged');
    }
  });

  it('runs on the refresh schedule for every tenant with pending changes', async () => {
    const { scheduleRefresh } = await import('@kokyaku/core');
    const schedule = scheduleRefresh(kokyaku, { intervalMs: 3_600_000, catchUpMs: 0 });
    try {
      await kokyaku.orders.record(ctx('catch-up'), [
        {
          externalId: 'k-new',
          customerExternalId: 'kc-new',
          placedAt: ago(1),
          lines: [
            { productExternalId: 'coffee', quantity: 1, unitPrice: 1800 },
            { productExternalId: 'mug', quantity: 1, unitPrice: 2000 },
          ],
        },
      ]);
      expect(await schedule.catchUpNow()).toBeGreaterThan(0);
      expect(await schedule.catchUpNow()).toBe(0);
    } finally {
      schedule.stop();
    }
  });
});

describe('blend with popularity', () => {
  it('is measured on the shop: the planted tastes beat popularity, so personal signals weigh more', async () => {
    expect([...new Set(tuned!.rows.map((r) => r.popularityWeight))]).toEqual([0, 0.2, 0.5, 0.8, 0.9, 0.95, 1]);
    expect([...new Set(tuned!.rows.map((r) => r.repeatWeight))]).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect([...new Set(tuned!.rows.map((r) => r.cycles))]).toEqual([false, true]);
    const score = (r: { hitRate: number; recall: number }) => r.hitRate + r.recall;
    const best = Math.max(...tuned!.rows.map(score));
    const { rows, ...blend } = tuned!;
    expect(score(rows.find((r) => r.popularityWeight === blend.popularity && r.repeatWeight === blend.repeat && r.cycles === blend.cycles)!)).toBe(best);
    expect(blend.popularity).toBeLessThan(0.9);
    expect(await kokyaku.recommendations.blend(ctx())).toEqual(blend);
  });

  it('is measured again by refresh only when the placed orders grew by a tenth, or after a week', async () => {
    const growing = ctx('growing');
    const orders = plantedOrders();
    await kokyaku.products.upsert(growing, products);
    await kokyaku.orders.record(growing, orders);
    const ifStale = () => kokyaku.recommendations.tuneBlend(ctx('growing'), { ifStale: true });
    expect(await ifStale()).not.toBeNull();
    expect(await ifStale()).toBeNull();
    const more = (n: number, tag: string) => orders.slice(0, n).map((o) => ({ ...o, externalId: `${o.externalId}-${tag}` }));
    await kokyaku.orders.record(ctx('growing'), more(Math.floor(orders.length * 0.05), 'a'));
    expect(await ifStale()).toBeNull();
    await kokyaku.orders.record(ctx('growing'), more(Math.ceil(orders.length * 0.06), 'b'));
    expect(await ifStale()).not.toBeNull();
    expect(await ifStale()).toBeNull();
    await sql(ctx('growing').em, `update kokyaku.recommendation_state set blend_measured_at = now() - interval '8 days' where tenant_id = 'growing'`);
    expect(await ifStale()).not.toBeNull();
  });
});

describe('strategies', () => {
  it('BOUGHT_TOGETHER finds the planted partners first, not the staples every basket holds', async () => {
    const [raw] = await sql<{ product: string }>(
      ctx().em,
      `select pb.external_id as product from kokyaku.product_pairs pp
       join kokyaku.products pa on pa.id = pp.product_a join kokyaku.products pb on pb.id = pp.product_b
       where pa.external_id = 'coffee' order by pp.baskets desc limit 1`,
    );
    expect(raw!.product).toMatch(/^filler/);
    const coffee = await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'coffee', strategy: 'BOUGHT_TOGETHER', first: 5 });
    expect(ids(coffee)[0]).toBe('filter');
    expect(coffee[0]!.reason).toMatch(/^Bought together with Coffee beans in \d+ orders$/);
    expect(coffee[0]!.score).toBeGreaterThan(coffee[1]!.score);
    const tea = await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'tea', first: 5 });
    expect(ids(tea)[0]).toBe('cookie');
  });

  it('SIMILAR gives a product without history neighbours by its attributes', async () => {
    const similar = await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'newtea', strategy: 'SIMILAR', first: 3 });
    expect(ids(similar)[0]).toBe('tea');
    expect(similar[0]!.reason).toMatch(/same categories or tags/);
  });

  it('FOR_CUSTOMER follows what the customer did, and falls back to popular for a newcomer', async () => {
    const coffeeLover = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c40', first: 10 });
    expect(coffeeLover[0]!.strategy).toBe('FOR_CUSTOMER');
    const list = ids(coffeeLover);
    expect(list).toContain('filter');
    // The coffee side of the shop comes before the tea side for a coffee drinker.
    expect(list.indexOf('cookie') === -1 || list.indexOf('filter') < list.indexOf('cookie')).toBe(true);
    expect(list.indexOf('tea') === -1 || list.indexOf('coffee') < list.indexOf('tea')).toBe(true);
    expect(coffeeLover.find((r) => r.product.externalId === 'filter')!.reason).toMatch(/^Because you (bought|viewed|added)/);

    // A newcomer who viewed tea gets tea's partners; one with no history at all gets what is popular.
    await kokyaku.events.track(ctx(), [{ eventId: 'v1', type: 'product_viewed', customerExternalId: 'newbie', productExternalId: 'tea', occurredAt: new Date() }]);
    expect(ids(await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'newbie', first: 3 }))).toContain('cookie');
    const cold = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'nobody-at-all', first: 3 });
    const popular = await kokyaku.recommendations.recommend(ctx(), { strategy: 'POPULAR', first: 3 });
    expect(ids(cold)).toEqual(ids(popular));
    expect(popular[0]!.reason).toMatch(/^Popular: ordered \d+ times in the last 30 days$/);
    // Months later, with no order since: what sold in the shop's last 30 days of orders, never nothing.
    const later = await kokyaku.recommendations.recommend(ctx(), { strategy: 'POPULAR', first: 3, now: new Date(Date.now() + 200 * 86_400_000) });
    expect(later.length).toBe(3);
    expect(later[0]!.reason).toMatch(/^Popular: ordered \d+ times in the 30 days to \d{4}-\d{2}-\d{2}$/);
  });

  it('TRENDING surfaces what rises against the previous window', async () => {
    await kokyaku.orders.record(
      ctx(),
      Array.from({ length: 6 }, (_, i) => ({
        externalId: `trend${i}`,
        customerExternalId: `t${i}`,
        placedAt: ago(2),
        lines: [{ productExternalId: 'mug', quantity: 1, unitPrice: 2000 }],
      })),
    );
    const trending = await kokyaku.recommendations.recommend(ctx(), { strategy: 'TRENDING', first: 3 });
    expect(ids(trending)[0]).toBe('mug');
    expect(trending[0]!.reason).toMatch(/^Trending: ordered \d+ times in the last 14 days, up from \d+$/);
  });
});

describe('business rules', () => {
  it('leave out bought furniture (rarely bought again) but not bought coffee (often bought again)', async () => {
    const rates = await kokyaku.recommendations.repurchaseRates(ctx());
    expect(rates.byCategory.get('furniture')).toBe(0);
    expect(rates.byCategory.get('coffee')!).toBeGreaterThan(0.3);
    // c0 bought the sofa; armchair buyers' neighbours include the sofa.
    const forSofaOwner = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c1', productExternalId: 'armchair', strategy: 'SIMILAR', first: 10 });
    expect(ids(forSofaOwner)).not.toContain('sofa');
    const forcedIn = await kokyaku.recommendations.recommend(ctx(), {
      customerExternalId: 'c1',
      productExternalId: 'armchair',
      strategy: 'SIMILAR',
      first: 10,
      excludePurchased: false,
    });
    expect(ids(forcedIn)).toContain('sofa');
    const coffeeBuyer = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c2', productExternalId: 'filter', strategy: 'BOUGHT_TOGETHER', first: 5 });
    expect(ids(coffeeBuyer)).toContain('coffee');
    const strict = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c2', productExternalId: 'filter', first: 5, excludePurchased: true });
    expect(ids(strict)).not.toContain('coffee');
  });

  it('read further down the ranking, a few products at a time, when the top is ruled out', async () => {
    const c = ctx('far-down');
    const items = Array.from({ length: 30 }, (_, i) => `x${String(i).padStart(2, '0')}`);
    // The last three are bought with the anchor least often: they rank at the bottom, and are the only ones in stock.
    const inStock = new Set(items.slice(-3));
    await kokyaku.products.upsert(c, [
      { externalId: 'anchor', name: 'Anchor', price: 1000, categories: ['misc'] },
      ...items.map((id) => ({ externalId: id, name: id, price: 500, categories: ['misc'], inStock: inStock.has(id) })),
    ]);
    await kokyaku.orders.record(
      c,
      Array.from({ length: 20 }, (_, k) => ({
        externalId: `fd${k}`,
        customerExternalId: `fdc${k}`,
        placedAt: ago(3),
        lines: ['anchor', ...items.filter((id) => !inStock.has(id) || k < 2)].map((id) => ({ productExternalId: id, quantity: 1, unitPrice: 500 })),
      })),
    );
    await kokyaku.orders.record(c, [
      { externalId: 'fd-me', customerExternalId: 'fd-me', placedAt: ago(1), lines: [{ productExternalId: 'anchor', quantity: 1, unitPrice: 1000 }] },
    ]);
    await kokyaku.recommendations.rebuild(c);
    const top = await kokyaku.recommendations.recommend(c, { customerExternalId: 'fd-me', strategy: 'FOR_CUSTOMER', first: 3, includeOutOfStock: true });
    expect(ids(top).filter((id) => inStock.has(id))).toEqual([]);
    const recs = await kokyaku.recommendations.recommend(c, { customerExternalId: 'fd-me', strategy: 'FOR_CUSTOMER', first: 3 });
    expect(ids(recs).sort()).toEqual([...inStock].sort());
  });

  it('leave out what is out of stock, keep to a category, and to a segment', async () => {
    await kokyaku.products.upsert(ctx(), [{ externalId: 'filter', name: 'Paper filters', inStock: false }]);
    expect(ids(await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'coffee', first: 5 }))).not.toContain('filter');
    expect(ids(await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'coffee', first: 5, includeOutOfStock: true }))[0]).toBe('filter');
    await kokyaku.products.upsert(ctx(), [{ externalId: 'filter', name: 'Paper filters', inStock: true }]);

    const misc = await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'coffee', first: 5, category: 'misc' });
    expect(misc.length).toBeGreaterThan(0);
    expect(misc.every((r) => r.product.categories.includes('misc'))).toBe(true);

    const segment = "products_purchased MATCHES (category = 'furniture')";
    expect(await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c1', segment, first: 3 })).not.toEqual([]);
    expect(await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'c100', segment, first: 3 })).toEqual([]);
    await expect(kokyaku.recommendations.recommend(ctx(), { segment, first: 3 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('an order recorded or cancelled changes the results without a rebuild', async () => {
    const together = (recs: Awaited<ReturnType<typeof kokyaku.recommendations.recommend>>) => ids(recs.filter((r) => r.strategy === 'BOUGHT_TOGETHER'));
    // Sofas are bought alone: nothing is bought together with them (the list is filled with POPULAR items).
    const before = await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'sofa', strategy: 'BOUGHT_TOGETHER', first: 5 });
    expect(together(before)).toEqual([]);
    expect(before.every((r) => r.strategy === 'POPULAR')).toBe(true);
    const sofaWithMug = Array.from({ length: 5 }, (_, i) => ({
      externalId: `sofa-mug-${i}`,
      customerExternalId: `sm${i}`,
      placedAt: ago(1),
      lines: [
        { productExternalId: 'sofa', quantity: 1, unitPrice: 90000 },
        { productExternalId: 'mug', quantity: 1, unitPrice: 2000 },
      ],
    }));
    await kokyaku.orders.record(ctx(), sofaWithMug);
    expect(together(await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'sofa', strategy: 'BOUGHT_TOGETHER', first: 5 }))).toEqual(['mug']);
    await kokyaku.orders.record(
      ctx(),
      sofaWithMug.map((o) => ({ ...o, status: 'CANCELLED' as const })),
    );
    expect(together(await kokyaku.recommendations.recommend(ctx(), { productExternalId: 'sofa', strategy: 'BOUGHT_TOGETHER', first: 5 }))).toEqual([]);
  });

  it('keeps tenants apart', async () => {
    expect(await kokyaku.recommendations.recommend(ctx('other-shop'), { productExternalId: 'coffee', first: 5 })).toEqual([]);
    expect(await kokyaku.recommendations.recommend(ctx('other-shop'), { strategy: 'POPULAR', first: 5 })).toEqual([]);
  });
});
