import path from 'node:path';
import { startEmbeddedPostgres } from '@kokyaku/core';
import { adminClient } from './store';
import { startMedusaShop } from './shop';

/**
 * `pnpm --filter @kokyaku/example-medusa-shop start`: a real Medusa v2 application with the
 * Kokyaku plugin, on embedded PostgreSQL (or DATABASE_URL); on first start a catalogue and a few
 * hundred orders placed through Medusa's Store API, then the history backfill.
 */
async function main() {
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`[medusa-shop] ${line}\n`);
  const port = Number(process.env.PORT ?? 9000);
  const embedded = process.env.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dataDir: process.env.KOKYAKU_DATA_DIR ?? path.resolve(path.dirname(__filename), '..', '.kokyaku', 'postgres'),
        databaseName: 'medusa',
        port: 0,
        ephemeral: false,
      });
  if (embedded) await embedded.ensureDatabase('medusa');
  const shop = await startMedusaShop({
    databaseUrl: process.env.DATABASE_URL ?? embedded!.url('medusa'),
    kokyakuDatabaseUrl: process.env.KOKYAKU_DATABASE_URL,
    port,
    orders: Number(process.env.DEMO_ORDERS ?? 300),
    log,
  });
  // The catalogue was created before the server ran: the backfill sends it (and anything else missed).
  const admin = await adminClient(shop.base);
  await admin.call('POST', '/admin/kokyaku/backfill', {});
  process.stdout.write(`
Medusa shop with Kokyaku is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)
  Store API:         ${shop.base}/store  (header x-publishable-api-key: ${shop.publishableKey})
  Recommendations:   ${shop.base}/store/kokyaku/recommendations
  Admin API:         ${shop.base}/admin  (admin@example.com / supersecret; GET /admin/kokyaku/sync)
  CRM staff console: ${shop.base}/kokyaku/console/  (sign in with a Medusa admin token)
  CRM GraphQL:       ${shop.base}/kokyaku/graphql
Press Ctrl-C to stop.
`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await shop.stop();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
