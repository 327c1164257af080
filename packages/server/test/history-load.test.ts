import { type Kokyaku, scheduleRefresh, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type StandaloneServer, startStandaloneServer } from '../src/standalone.js';

/**
 * A shop's whole history recorded through GraphQL, batch after batch, while the periodic jobs run
 * (the catch-up of the recommendation counts every second here, every minute in production):
 * memory stays bounded and no batch fails. The server shares this process, so its RSS is ours.
 */
let kokyaku: Kokyaku;
let server: StandaloneServer;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { timeZone: 'Asia/Tokyo' } });
  server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: 'history' });
});
afterAll(async () => {
  await server?.close();
  await kokyaku?.close();
});

const ORDERS = 100_000;
const BATCH = 500;

it(`records ${ORDERS.toLocaleString('en')} orders of 6 lines in batches of ${BATCH} while the periodic jobs run, in under 1 GB`, async () => {
  const jobs = scheduleRefresh(kokyaku, { intervalMs: 3_600_000, catchUpMs: 1000 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const failures: string[] = [];
  try {
    for (let start = 0; start < ORDERS; start += BATCH) {
      const orders = Array.from({ length: BATCH }, (_, i) => {
        const n = start + i;
        return {
          externalId: `h-${n}`,
          customerExternalId: `c-${(n * 7919) % 14_000}`,
          placedAt: new Date(Date.UTC(2024, 0, 1) + (n % 700) * 86_400_000).toISOString(),
          lines: Array.from({ length: 6 }, (_, k) => ({ productExternalId: `p-${(n * 31 + k * 977) % 3000}`, quantity: 1 + (k % 2), unitPrice: 500 + ((n + k) % 20) * 100 })),
        };
      });
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer history' },
        body: JSON.stringify({ query: 'mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { created failed } }', variables: { o: orders } }),
      });
      const body = (await res.json()) as { data?: { recordOrders: { created: number; failed: number } }; errors?: unknown[] };
      if (body.errors || body.data?.recordOrders.failed) failures.push(JSON.stringify(body.errors ?? body.data));
    }
    await jobs.catchUpNow();
  } finally {
    clearInterval(sampler);
    jobs.stop();
  }
  expect(failures).toEqual([]);
  const [stored] = await sql<{ n: number }>(kokyaku.context().em, `select count(*)::int as n from kokyaku.orders where tenant_id = 'default'`);
  expect(stored!.n).toBe(ORDERS);
  expect(Math.round(peak / 2 ** 20), 'peak RSS in MiB').toBeLessThan(1024);
}, 600_000);
