/**
 * `pnpm ingest:concurrency`: recordOrders throughput with 8 writers against 1 writer, in one run
 * on a fresh embedded PostgreSQL: 48 batches of 150 three-line orders per measurement, each order
 * in two or three batches, customers and products new to the shop (placeholders created
 * concurrently). Prints orders/s of each, their ratio and the batches that failed.
 */
import type { OrderInput } from '@kokyaku/core';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';

const BATCH = 150;
const BATCHES = 48;
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
const order = (round: number, n: number): OrderInput => ({
  externalId: `r${round}-o${n}`,
  customerExternalId: `r${round}-c${(n * 11) % 400}`,
  placedAt: new Date(Date.UTC(2026, 0, 1 + (n % 300))),
  lines: [0, 1, 2].map((k) => ({ productExternalId: `r${round}-p${(n * 7 + k * 13) % 200}`, quantity: 1 + ((n + k) % 3), unitPrice: 100 })),
});
let failed = 0;
/** Orders per second of `writers` clients taking the batches of a round in turn. */
async function measure(writers: number, round: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let b = next++; b < BATCHES; b = next++) {
        try {
          const result = await kokyaku.orders.record(
            kokyaku.context(),
            Array.from({ length: BATCH }, (_, i) => order(round, b * 60 + i)),
          );
          if (result.failed) failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return (BATCHES * BATCH) / ((performance.now() - started) / 1000);
}
await measure(1, 0); // warm-up
const one = [await measure(1, 1), await measure(1, 3)];
const eight = [await measure(8, 2), await measure(8, 4)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
process.stdout.write(
  `recordOrders: 1 writer ${Math.round(mean(one))} orders/s, 8 writers ${Math.round(mean(eight))} orders/s (${(mean(eight) / mean(one)).toFixed(2)}x); failed batches: ${failed}\n`,
);
await kokyaku.close();
await server.stop();
