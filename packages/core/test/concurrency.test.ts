import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type Kokyaku, type OrderInput, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

/**
 * A shop backend with several workers sends overlapping batches at once: the same orders, the
 * same customers, new customers and products that none of them has sent before. Every batch must
 * succeed (no deadlock reaches the caller) and the figures must be exact.
 */
let kokyaku: Kokyaku;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
});
afterAll(() => kokyaku?.close());

const WRITERS = 8;
const BATCH = 150;
const ROUNDS = 20;

/** Order n of a round: one of 40 customers, three of 60 products, all new to the shop in this round. */
function order(round: number, n: number): OrderInput {
  const lines = [0, 1, 2].map((k) => ({ productExternalId: `r${round}-p${(n * 7 + k * 13) % 60}`, quantity: 1 + ((n + k) % 3), unitPrice: 100 * (1 + ((n + k) % 5)) }));
  return { externalId: `r${round}-o${n}`, customerExternalId: `r${round}-c${(n * 11) % 40}`, placedAt: new Date(Date.UTC(2026, 0, 1 + (n % 300))), lines };
}

it(`${WRITERS} writers of overlapping batches, ${ROUNDS} rounds: not one failed batch, exact figures`, async () => {
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Writer w sends orders w*60 .. w*60+149: each order is in two or three writers' batches,
    // shuffled differently, while customer profiles of the same people arrive too.
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const ctx = kokyaku.context();
        const ids = Array.from({ length: BATCH }, (_, i) => w * 60 + i);
        const shuffled = w % 2 === 0 ? ids : [...ids].reverse();
        try {
          const result = await kokyaku.orders.record(
            ctx,
            shuffled.map((n) => order(round, n)),
          );
          if (result.failed > 0) failures.push(JSON.stringify(result.errors[0]));
          const people = await kokyaku.customers.upsert(
            ctx,
            Array.from({ length: 40 }, (_, c) => ({ externalId: `r${round}-c${(c * (w + 1)) % 40}`, firstName: `W${w}` })),
          );
          if (people.failed > 0) failures.push(JSON.stringify(people.errors[0]));
        } catch (error) {
          failures.push(`${(error as { code?: string }).code ?? ''} ${(error as Error).message}`);
        }
      }),
    );
  }
  expect(failures).toEqual([]);

  // Exact: every customer's figures are the sum of its distinct orders.
  const expected = new Map<string, { orders: number; spent: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (let n = 0; n < (WRITERS - 1) * 60 + BATCH; n++) {
      const o = order(round, n);
      const e = expected.get(o.customerExternalId) ?? { orders: 0, spent: 0 };
      e.orders++;
      e.spent += o.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
      expected.set(o.customerExternalId, e);
    }
  }
  const rows = await sql<{ external_id: string; orders_count: number; total: string }>(
    kokyaku.context().em,
    `select c.external_id, f.orders_count, f.total_spent_minor::text as total from kokyaku.customers c join kokyaku.customer_facts f on f.customer_id = c.id where c.tenant_id = 'default'`,
  );
  expect(rows.length).toBe(expected.size);
  const wrong = rows.filter((r) => r.orders_count !== expected.get(r.external_id)?.orders || Number(r.total) !== expected.get(r.external_id)?.spent);
  expect(wrong).toEqual([]);
}, 300_000);
