import type { AddressInfo } from 'node:net';
import { createKokyaku } from '@kokyaku/core';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import { shopConfig } from '@kokyaku/example-vendure-shop/config';
import { populateShop, seedOrders } from '@kokyaku/example-vendure-shop/seed';
import { KokyakuBackfill, KokyakuService } from '@kokyaku/vendure';
import { Customer, DefaultLogger, JobQueueService, LogLevel, Order, ProductVariant, TransactionalConnection, bootstrap } from '@vendure/core';
import { IsNull, Not } from 'typeorm';
import { time } from './stats.js';

/**
 * The Vendure plugin's history backfill: a real Vendure server whose orders were placed through
 * its Shop API, backfilled into an empty Kokyaku (reading Vendure's tables, mapping, recording),
 * against the same orders recorded directly with `kokyaku.orders.record` in batches of the same
 * size into another empty Kokyaku (customers and products stored first in both, untimed).
 */
export interface VendureBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

export async function benchVendure(adminUrl: string, options: { orders: number; batchSize: number }, log: (line: string) => void): Promise<VendureBenchRow[]> {
  process.env.VENDURE_DISABLE_TELEMETRY = 'true';
  const vendureDb = await createTestDatabase(adminUrl, `vendure_bench_${Date.now().toString(36)}`);
  const liveDb = await createTestDatabase(adminUrl);
  const backfillDb = await createTestDatabase(adminUrl);
  const directDb = await createTestDatabase(adminUrl);
  const start = async (database: string) => {
    const config = shopConfig({ databaseUrl: vendureDb, port: 0, kokyaku: { database } });
    config.logger = new DefaultLogger({ level: LogLevel.Error });
    const app = await bootstrap(config);
    await app.get(JobQueueService).start();
    return { app, base: `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}` };
  };
  try {
    let { app, base } = await start(liveDb);
    await populateShop(app);
    const seeding = await time(() => seedOrders(`${base}/shop-api`, { customers: Math.max(20, Math.round(options.orders / 4)), orders: options.orders, concurrency: 8 }));
    await app.get(KokyakuService).drain();
    log(`  ${options.orders} orders placed through Vendure's Shop API in ${(seeding / 1000).toFixed(1)} s (live sync on)`);
    await app.close();

    ({ app } = await start(backfillDb));
    const backfill = app.get(KokyakuBackfill);
    await backfill.start({ restart: true, batchSize: options.batchSize });
    const done = await backfill.wait();
    if (done.status !== 'done') throw new Error(`backfill ${done.status}: ${done.error}`);
    const backfillSeconds = done.phaseSeconds.orders;
    log(
      `  backfill: ${done.done.customers} customers, ${done.done.products} products, ${done.done.orders} orders in ${done.seconds.toFixed(2)} s (orders ${backfillSeconds.toFixed(2)} s)`,
    );

    // The same inputs, read from Vendure by the plugin (untimed), recorded straight into core.
    const service = app.get(KokyakuService);
    const em = app.get(TransactionalConnection).rawConnection.manager;
    const ids = async (entity: typeof Customer | typeof ProductVariant | typeof Order, where: Record<string, unknown>) =>
      (await em.getRepository(entity).find({ select: { id: true }, where, order: { id: 'ASC' }, withDeleted: true })).map((r) => String(r.id));
    const customers = await service.loadCustomers(em, await ids(Customer, { deletedAt: IsNull() }));
    const products = await service.loadProducts(em, await ids(ProductVariant, {}));
    const orderIds = await ids(Order, { orderPlacedAt: Not(IsNull()), customer: { deletedAt: IsNull() } });
    const orders: Awaited<ReturnType<KokyakuService['loadOrders']>> = [];
    for (let i = 0; i < orderIds.length; i += options.batchSize) orders.push(...(await service.loadOrders(em, orderIds.slice(i, i + options.batchSize))));
    const currency = service.running!.config.shop.currency;
    await app.close();

    const direct = await createKokyaku({ database: { url: directDb }, shop: { currency } });
    let directMs = 0;
    try {
      const ctx = direct.context();
      await direct.customers.upsert(ctx, customers);
      await direct.products.upsert(ctx, products);
      directMs = await time(async () => {
        for (let i = 0; i < orders.length; i += options.batchSize) await direct.orders.record(ctx, orders.slice(i, i + options.batchSize));
      });
    } finally {
      await direct.close();
    }
    const viaBackfill = done.done.orders / backfillSeconds;
    const viaRecord = orders.length / (directMs / 1000);
    log(`  orders/s: backfill ${viaBackfill.toFixed(0)}, kokyaku.orders.record ${viaRecord.toFixed(0)}`);
    return [
      {
        name: `Vendure backfill, orders/s (${done.done.orders} orders, batches of ${options.batchSize})`,
        kokyaku: viaBackfill.toFixed(0),
        baseline: `${viaRecord.toFixed(0)} (orders.record)`,
        ratio: `${(viaBackfill / viaRecord).toFixed(2)}x`,
      },
    ];
  } finally {
    for (const db of [liveDb, backfillDb, directDb, vendureDb]) await dropTestDatabase(adminUrl, db).catch(() => undefined);
  }
}
