import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type Kokyaku, type OrderInput, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

/**
 * Wholesale and B2B orders hold hundreds of lines. Their upkeep must cost about what the same
 * number of lines in small orders costs (not the square of their size), in bounded memory, and
 * the counts the upkeep keeps must be the counts a rebuild makes from the orders.
 */
let kokyaku: Kokyaku;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
});
afterAll(() => kokyaku?.close());

const PRODUCTS = 1500;
const line = (p: number) => ({ productExternalId: `p${p % PRODUCTS}`, quantity: 1 + (p % 4), unitPrice: 100 + (p % 50) });

it('records 500 orders of 300 lines in batches of 100 at the cost per line of small orders, in bounded memory, and refreshes after', async () => {
  const ctx = kokyaku.context();
  let peakRss = process.memoryUsage().rss;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    // The baseline: one batch of 3-line orders with as many lines as a batch of the large ones.
    const small: OrderInput[] = Array.from({ length: 10_000 }, (_, i) => ({
      externalId: `s-${i}`,
      customerExternalId: `sc-${i % 2000}`,
      placedAt: new Date(Date.UTC(2026, 0, 1 + (i % 200))),
      lines: [0, 1, 2].map((k) => line(i * 3 + k * 101)),
    }));
    let started = performance.now();
    expect((await kokyaku.orders.record(ctx, small)).failed).toBe(0);
    const baseline = performance.now() - started;

    const times: number[] = [];
    for (let b = 0; b < 5; b++) {
      const large: OrderInput[] = Array.from({ length: 100 }, (_, i) => {
        const n = b * 100 + i;
        return {
          externalId: `w-${n}`,
          // Most are wholesale accounts; every tenth is a small customer's first large order.
          customerExternalId: n % 10 === 0 ? `sc-${n}` : `wc-${n % 100}`,
          placedAt: new Date(Date.UTC(2026, 1, 1 + (n % 150))),
          lines: Array.from({ length: 300 }, (_, k) => line(n * 17 + k * 5)),
        };
      });
      started = performance.now();
      const result = await kokyaku.orders.record(ctx, large);
      times.push(performance.now() - started);
      expect(result.failed).toBe(0);
    }
    // About linear: no batch of 300-line orders costs ten times the same lines in 3-line orders.
    expect(Math.max(...times), `batches ${times.map(Math.round).join(', ')} ms against ${Math.round(baseline)} ms`).toBeLessThan(10 * baseline);

    // Everything the upkeep left for later (customers owning hundreds of products) is folded, a chunk at a time.
    await kokyaku.recommendations.catchUp(ctx);
    const pairs = async () =>
      sql<{ a: string; b: string; baskets: number; customers: number }>(
        ctx.em,
        `select product_a::text as a, product_b::text as b, baskets, customers from kokyaku.product_pairs
         where tenant_id = 'default' and (baskets <> 0 or customers <> 0) order by 1, 2`,
      );
    const kept = await pairs();
    const result = await kokyaku.refresh();
    expect(result.failures).toEqual([]);
    // The rebuild from the orders counts exactly what the upkeep counted, sampled baskets included.
    const rebuilt = await pairs();
    expect(rebuilt.length).toBe(kept.length);
    expect(rebuilt).toEqual(kept);
    expect(peakRss / 2 ** 20, 'peak RSS in MiB').toBeLessThan(1024);
  } finally {
    clearInterval(sample);
  }
}, 300_000);
