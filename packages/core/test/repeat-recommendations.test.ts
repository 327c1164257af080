import type { Kokyaku, OrderInput } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

/**
 * A planted shop of two kinds of customers. Replenishers shop weekly, one or two of the thirty
 * things everybody buys, and their own staple (rice, coffee, ...) every other week; explorers buy two new books of
 * their genre each time (and one of the thirty) and rarely the same book twice. FOR_CUSTOMER must
 * give a replenisher their staple back when it is due and not before, and an explorer the
 * neighbours of what they read.
 */
let kokyaku: Kokyaku;
let tuned: Awaited<ReturnType<Kokyaku['recommendations']['tuneBlend']>>;
const ctx = () => kokyaku.context();
const DAY = 86_400_000;
const NOW = Date.now();
const ago = (days: number) => new Date(NOW - days * DAY);
const ids = (recs: { product: { externalId: string } }[]) => recs.map((r) => r.product.externalId);

const fillers = Array.from({ length: 30 }, (_, i) => `f${i}`);
const staples = ['rice', 'coffee', 'detergent', 'catfood', 'diapers'];
const GENRES = ['a', 'b', 'c', 'd'];
const genre = (g: string) => Array.from({ length: 10 }, (_, i) => `${g}${i}`);
const products = [
  ...staples.map((id) => ({ externalId: id, name: id === 'rice' ? 'Rice 5 kg' : id, price: 2500, categories: ['pantry'] })),
  ...fillers.map((id) => ({ externalId: id, name: `Staple ${id}`, price: 300, categories: ['pantry'] })),
  ...GENRES.flatMap(genre).map((id) => ({ externalId: id, name: `Book ${id}`, price: 1500, categories: ['books'] })),
];

/** Replenisher r<c>'s last order, and their last one with their staple (every other week), in days ago. */
const lastOrder = (c: number) => 3 + (c % 14);
const lastStaple = (c: number) => lastOrder(c) + (c % 2 === 1 ? 0 : 7);

function plantedOrders(): OrderInput[] {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  // The thirty: f0 is in many baskets, f29 in few.
  const filler = () => fillers[Math.floor(random() ** 2 * fillers.length)]!;
  const orders: OrderInput[] = [];
  const order = (customer: string, n: number, at: Date, items: Iterable<string>) =>
    orders.push({
      externalId: `${customer}-${n}`,
      customerExternalId: customer,
      placedAt: at.toISOString(),
      lines: [...new Set(items)].map((p) => ({ productExternalId: p, quantity: 1, unitPrice: 100 })),
    });
  for (let c = 0; c < 40; c++) {
    for (let n = 0; n < 16; n++) {
      const staple = n % 2 === c % 2 ? [staples[c % staples.length]!] : [];
      order(`r${c}`, n, ago(lastOrder(c) + (15 - n) * 7), [...staple, filler(), ...(random() < 0.5 ? [filler()] : [])]);
    }
  }
  for (let c = 0; c < 80; c++) {
    const books = genre(GENRES[c % GENRES.length]!).sort(() => random() - 0.5);
    for (let n = 0; n < 3; n++) order(`e${c}`, n, ago(150 - n * 40 - (c % 20)), [books[2 * n]!, books[2 * n + 1]!, filler()]);
  }
  // The two customers the tests ask about: rice every 14 days, the last 2 days ago; two books of genre A.
  for (let n = 0; n < 6; n++) order('replenisher', n, ago(2 + (5 - n) * 14), ['rice']);
  order('explorer', 0, ago(20), ['a0', 'a1']);
  return orders;
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'UTC' } });
  await kokyaku.products.upsert(ctx(), products);
  await kokyaku.orders.record(ctx(), plantedOrders());
  await kokyaku.recommendations.rebuild(ctx());
  tuned = await kokyaku.recommendations.tuneBlend(ctx());
});
afterAll(() => kokyaku?.close());

describe('repeat-aware FOR_CUSTOMER', () => {
  it("measures the shop's blend: the pair with the best hit rate plus recall, repeat weighing in", async () => {
    const score = (r: { hitRate: number; recall: number }) => r.hitRate + r.recall;
    const best = Math.max(...tuned!.rows.map(score));
    const { rows, ...blend } = tuned!;
    expect(score(rows.find((r) => r.popularityWeight === blend.popularity && r.repeatWeight === blend.repeat && r.cycles === blend.cycles)!)).toBe(best);
    expect(rows).toHaveLength(70);
    // Explorers make the neighbours count, replenishers their own purchases.
    expect(blend.repeat).toBeGreaterThan(0);
    expect(blend.repeat).toBeLessThan(1);
    expect(await kokyaku.recommendations.blend(ctx())).toEqual(blend);
  });

  it('with cycles on, gives a replenishing customer their staple back when it is due, and not before', async () => {
    const at = (days: number) => kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'replenisher', first: 5, now: new Date(NOW + days * DAY), cycles: true });
    // Two days after the last bag (and at eight, halfway): not rice.
    expect(ids(await at(0))).not.toContain('rice');
    expect(ids(await at(6))).not.toContain('rice');
    // Fourteen days after it: rice, with the day it was due.
    const rice = (await at(12)).find((r) => r.product.externalId === 'rice');
    expect(rice).toMatchObject({
      strategy: 'FOR_CUSTOMER',
      dueOn: ago(2 - 14)
        .toISOString()
        .slice(0, 10),
    });
    expect(rice!.reason).toBe('Buy again: you bought it 6 time(s); you buy it about every 14 day(s)');
  });

  it('gives an explorer the neighbours of what they bought, not the staples everybody buys', async () => {
    const recs = await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'explorer', first: 5 });
    const list = ids(recs);
    expect(list.filter((id) => /^a[2-9]$/.test(id)).length).toBeGreaterThanOrEqual(3);
    expect(list.some((id) => /^[bcd]/.test(id))).toBe(false);
  });
});

describe('BUY_AGAIN', () => {
  it('lists what is coming due within the days asked (7 by default), with the day, and nothing else', async () => {
    const at = (days: number, windowDays?: number) =>
      kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'replenisher', strategy: 'BUY_AGAIN', now: new Date(NOW + days * DAY), windowDays });
    expect(await at(0)).toEqual([]);
    const soon = await at(0, 14);
    expect(ids(soon)).toEqual(['rice']);
    const week = await at(6);
    expect(ids(week)).toEqual(['rice']);
    expect(week[0]).toMatchObject({
      strategy: 'BUY_AGAIN',
      dueOn: ago(2 - 14)
        .toISOString()
        .slice(0, 10),
    });
    expect(week[0]!.reason).toBe(`Due again around ${week[0]!.dueOn}: you buy it about every 14 day(s)`);
    // An explorer's books have no cycle: nothing is due.
    expect(await kokyaku.recommendations.recommend(ctx(), { customerExternalId: 'explorer', strategy: 'BUY_AGAIN', windowDays: 365 })).toEqual([]);
    await expect(kokyaku.recommendations.recommend(ctx(), { strategy: 'BUY_AGAIN' })).rejects.toThrow('BUY_AGAIN needs customerExternalId.');
  });
});

describe('due_to_rebuy in the segment language', () => {
  it('selects the customers whose next purchase of a product is expected in the window', async () => {
    // r<c> (rice when c % 5 = 0) bought it every 14 days, the last lastStaple(c) days ago: due within 7 days when that is 8 or more.
    const expected = Array.from({ length: 40 }, (_, c) => c)
      .filter((c) => c % 5 === 0 && lastStaple(c) >= 8)
      .map((c) => `r${c}`);
    const page = await kokyaku.segments.customers(ctx(), "due_to_rebuy MATCHES (product = 'rice', date < +7d)", { first: 100 });
    expect(page.nodes.map((c) => c.externalId).sort()).toEqual(expected.sort());
    // The replenisher's bag comes due in 12 days.
    const fortnight = await kokyaku.segments.customers(ctx(), "due_to_rebuy MATCHES (product = 'rice', date < +14d)", { first: 100 });
    expect(fortnight.nodes.map((c) => c.externalId)).toContain('replenisher');
    expect(await kokyaku.segments.count(ctx(), "due_to_rebuy MATCHES (category = 'books')")).toBe(0);
  });
});

describe('journeys', () => {
  it('read what is coming due in a message ("running low on rice?")', async () => {
    // r10 bought rice every 14 days, the last 20 days ago: due 6 days ago.
    const message = await kokyaku.journeys.preview(ctx(), {
      customerExternalId: 'r10',
      subject: '{% assign due = recommendations.buy_again | first %}Running low on {{ due.name }}?',
      text: '{% for item in recommendations.buy_again %}{{ item.name }} ({{ item.due_on }}){% endfor %}',
    });
    expect(message.subject).toBe('Running low on Rice 5 kg?');
    expect(lastStaple(10)).toBe(20);
    expect(message.text).toContain(
      `Rice 5 kg (${ago(lastStaple(10) - 14)
        .toISOString()
        .slice(0, 10)})`,
    );
  });
});

describe('evaluation', () => {
  it('splits every row into repeat and explore items that add up, next to the baselines', async () => {
    const evaluation = await kokyaku.recommendations.evaluate(ctx(), { k: 10 });
    expect(evaluation.customers).toBe(121);
    // The shop's blend, and the comparison it was chosen from.
    const { rows: compared, measuredAt, ...blend } = evaluation.blend!;
    const { rows: tunedRows, ...tunedBlend } = tuned!;
    expect(blend).toEqual(tunedBlend);
    expect(measuredAt).not.toBeNull();
    expect(compared).toEqual(tunedRows);
    expect(evaluation.repeatShare).toBeGreaterThan(0.1);
    expect(evaluation.repeatShare).toBeLessThan(0.8);
    const rows = [...evaluation.rows, ...evaluation.baselines];
    expect(evaluation.baselines.map((b) => b.baseline)).toEqual(['G_TOPFREQ', 'P_TOPFREQ', 'GP_TOPFREQ', 'ITEM_KNN']);
    for (const r of rows) {
      expect(r.repeat.recall + r.explore.recall).toBeCloseTo(r.recall, 10);
      expect(r.repeat.ndcg + r.explore.ndcg).toBeCloseTo(r.ndcg, 10);
      expect(r.hitRate).toBeGreaterThanOrEqual(Math.max(r.repeat.hitRate, r.explore.hitRate));
    }
    const row = (name: string) => rows.find((r) => ('strategy' in r ? r.strategy : r.baseline) === name)!;
    // What the customer bought before can only be repeat; BUY_AGAIN finds the replenishers' rice.
    expect(row('P_TOPFREQ').explore.recall).toBe(0);
    expect(row('BUY_AGAIN').explore.recall).toBe(0);
    expect(row('BUY_AGAIN').repeat.hitRate).toBeGreaterThan(0.3);
    // Both worlds at once: FOR_CUSTOMER finds the replenishers' rice and the explorers' next books.
    expect(row('FOR_CUSTOMER').repeat.recall).toBeGreaterThan(0);
    expect(row('FOR_CUSTOMER').explore.recall).toBeGreaterThan(row('P_TOPFREQ').explore.recall);
    for (const measure of ['recall', 'hitRate'] as const) {
      expect(row('FOR_CUSTOMER')[measure]).toBeGreaterThanOrEqual(Math.max(...['G_TOPFREQ', 'P_TOPFREQ', 'GP_TOPFREQ', 'ITEM_KNN'].map((b) => row(b)[measure])));
    }
  });
});
