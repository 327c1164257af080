import { createServer } from 'node:net';
import { createKokyaku, type OrderInput, toMajorUnits } from '@kokyaku/core';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import { startMedusaShop } from '@kokyaku/example-medusa-shop/shop';
import { adminClient } from '@kokyaku/example-medusa-shop/store';
import pg from 'pg';
import { time } from './stats.js';
import type { VendureBenchRow } from './vendure.js';

/**
 * The Medusa plugin's history backfill: a real Medusa application (its own CLI) whose orders were
 * placed through the Store API, backfilled into an empty Kokyaku, against the same orders (read
 * back from that Kokyaku) recorded with `kokyaku.orders.record` into another, in the same run.
 */
export async function benchMedusa(adminUrl: string, options: { orders: number; batchSize: number }, log: (line: string) => void): Promise<VendureBenchRow[]> {
  const medusaDb = await createTestDatabase(adminUrl, `medusa_bench_${Date.now().toString(36)}`);
  const liveDb = await createTestDatabase(adminUrl);
  const backfillDb = await createTestDatabase(adminUrl);
  const directDb = await createTestDatabase(adminUrl);
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  try {
    let shop = await startMedusaShop({ databaseUrl: medusaDb, kokyakuDatabaseUrl: liveDb, port });
    const seeding = await time(async () => {
      const { seedOrders } = await import('@kokyaku/example-medusa-shop/store');
      await seedOrders(shop.base, shop.publishableKey, { customers: Math.max(20, Math.round(options.orders / 4)), orders: options.orders, concurrency: 8 });
    });
    log(`  ${options.orders} orders placed through Medusa's Store API in ${(seeding / 1000).toFixed(1)} s (live sync on)`);
    await shop.stop();

    shop = await startMedusaShop({ databaseUrl: medusaDb, kokyakuDatabaseUrl: backfillDb, port });
    const admin = await adminClient(shop.base);
    await admin.call('POST', '/admin/kokyaku/backfill', { restart: true, batch_size: options.batchSize });
    type State = { status: string; error: string | null; done: Record<string, number>; phaseSeconds: Record<string, number>; seconds: number };
    let state: State;
    for (;;) {
      state = (await admin.call<{ backfill: State }>('GET', '/admin/kokyaku/backfill')).backfill;
      if (state.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await shop.stop();
    if (state.status !== 'done') throw new Error(`backfill ${state.status}: ${state.error}`);
    const backfillSeconds = state.phaseSeconds.orders!;
    log(
      `  backfill: ${state.done.customers} customers, ${state.done.products} products, ${state.done.orders} orders in ${state.seconds.toFixed(2)} s (orders ${backfillSeconds.toFixed(2)} s)`,
    );

    // The same orders, as the backfill stored them, recorded straight into an empty Kokyaku.
    const db = new pg.Client({ connectionString: backfillDb });
    await db.connect();
    let orders: OrderInput[];
    let currency: string;
    try {
      const { rows } = await db.query<{
        external_id: string;
        customer: string;
        placed_at: Date;
        currency: string;
        status: 'PLACED' | 'CANCELLED';
        lines: Array<{ p: string; q: number; u: string }>;
      }>(
        `select o.external_id, c.external_id as customer, o.placed_at, o.currency, o.status,
                json_agg(json_build_object('p', p.external_id, 'q', l.quantity, 'u', l.unit_price_minor) order by l.position) as lines
         from kokyaku.orders o join kokyaku.customers c on c.id = o.customer_id
         join kokyaku.order_lines l on l.order_id = o.id join kokyaku.products p on p.id = l.product_id
         group by o.id, o.tenant_id, c.external_id order by o.id`,
      );
      currency = rows[0]!.currency;
      orders = rows.map((r) => ({
        externalId: r.external_id,
        customerExternalId: r.customer,
        placedAt: r.placed_at,
        currency: r.currency,
        status: r.status,
        lines: r.lines.map((l) => ({ productExternalId: l.p, quantity: l.q, unitPrice: toMajorUnits(Number(l.u), r.currency)! })),
      }));
    } finally {
      await db.end();
    }
    const direct = await createKokyaku({ database: { url: directDb }, shop: { currency } });
    let directMs = 0;
    try {
      const ctx = direct.context();
      directMs = await time(async () => {
        for (let i = 0; i < orders.length; i += options.batchSize) await direct.orders.record(ctx, orders.slice(i, i + options.batchSize));
      });
    } finally {
      await direct.close();
    }
    const viaBackfill = state.done.orders! / backfillSeconds;
    const viaRecord = orders.length / (directMs / 1000);
    log(`  orders/s: backfill ${viaBackfill.toFixed(0)}, kokyaku.orders.record ${viaRecord.toFixed(0)}`);
    return [
      {
        name: `Medusa backfill, orders/s (${state.done.orders} orders, batches of ${options.batchSize})`,
        kokyaku: viaBackfill.toFixed(0),
        baseline: `${viaRecord.toFixed(0)} (orders.record)`,
        ratio: `${(viaBackfill / viaRecord).toFixed(2)}x`,
      },
    ];
  } finally {
    for (const db of [liveDb, backfillDb, directDb, medusaDb]) await dropTestDatabase(adminUrl, db).catch(() => undefined);
  }
}
