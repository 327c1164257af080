import path from 'node:path';
import { startEmbeddedPostgres } from '@kokyaku/core';
import { KokyakuService } from '@kokyaku/vendure';
import { JobQueueService, Order, TransactionalConnection, bootstrap } from '@vendure/core';
import { shopConfig } from './config.js';
import { populateShop, seedOrders } from './seed.js';

/**
 * `pnpm --filter @kokyaku/example-vendure-shop start`: a real Vendure 3 server with the Kokyaku
 * plugin, on embedded PostgreSQL (or DATABASE_URL), with a catalogue and a few hundred orders
 * placed through Vendure's own Shop API on first start.
 */
process.env.VENDURE_DISABLE_TELEMETRY ??= 'true';
const started = Date.now();
const log = (line: string) => process.stdout.write(`[vendure-shop] ${line}\n`);
const port = Number(process.env.PORT ?? 3100);

const embedded = process.env.DATABASE_URL
  ? null
  : await startEmbeddedPostgres({
      dataDir: process.env.KOKYAKU_DATA_DIR ?? path.resolve(import.meta.dirname, '..', '.kokyaku', 'postgres'),
      databaseName: 'vendure',
      port: 0,
      ephemeral: false,
    });
if (embedded) await embedded.ensureDatabase('vendure');
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url('vendure');

// Kokyaku lives in Vendure's own database, in its schema "kokyaku" (KOKYAKU_DATABASE_URL: another).
const app = await bootstrap(shopConfig({ databaseUrl, port, kokyaku: { database: process.env.KOKYAKU_DATABASE_URL || 'vendure' } }));
// One process for the example: the job queue (search index, collections) runs in the server too.
await app.get(JobQueueService).start();

const connection = app.get(TransactionalConnection);
if ((await connection.rawConnection.getRepository(Order).count()) === 0) {
  log('first start: creating the catalogue and placing orders through the Shop API…');
  const hasProducts = (await connection.rawConnection.query('select count(*)::int as n from product'))[0].n > 0;
  if (!hasProducts) await populateShop(app);
  const orders = Number(process.env.DEMO_ORDERS ?? 300);
  const placed = await seedOrders(`http://localhost:${port}/shop-api`, { customers: Math.max(10, Math.round(orders / 3)), orders, log });
  await app.get(KokyakuService).drain();
  log(`${placed} orders placed in ${((Date.now() - started) / 1000).toFixed(1)} s; Kokyaku has them through the plugin's outbox`);
}

const base = `http://localhost:${port}`;
process.stdout.write(`
Vendure shop with Kokyaku is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)
  Shop API:          ${base}/shop-api   (kokyakuRecommendations, kokyakuTrackProductView, kokyakuSetConsent)
  Admin API:         ${base}/admin-api  (kokyakuSync, startKokyakuBackfill; superadmin / superadmin)
  CRM staff console: ${base}/kokyaku/console/  (sign in with a Vendure admin token)
  CRM GraphQL:       ${base}/kokyaku/graphql
Press Ctrl-C to stop.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await app.close();
  await embedded?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
