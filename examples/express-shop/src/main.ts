import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createKokyaku, scheduleRefresh } from '@kokyaku/core';
import { loyaltyPlugin } from '@kokyaku/example-plugin-loyalty';
import pg from 'pg';
import { createShopApp } from './app.js';
import { MailFolder } from './mail-folder.js';
import { flushOutbox } from './outbox.js';
import { seedDemoShop } from './seed.js';
import { migrateShop } from './shop-db.js';

/**
 * `pnpm start`: the example shop with the CRM mounted, on embedded PostgreSQL (or DATABASE_URL),
 * filled with demo data on first start.
 */
const started = Date.now();
const log = (line: string) => process.stdout.write(`[shop] ${line}\n`);
const port = Number(process.env.PORT ?? 3000);
// This machine only by default: the explorer page carries the staff token. HOST=0.0.0.0 opens the
// shop to the network, and then the explorer asks for the token instead.
const host = process.env.HOST ?? 'localhost';
const local = ['localhost', '127.0.0.1', '::1'].includes(host);
const staffToken = process.env.CRM_ADMIN_TOKEN ?? randomBytes(12).toString('base64url');
const viewerToken = process.env.CRM_VIEWER_TOKEN || undefined;

const dataRoot = path.resolve(import.meta.dirname, '..', '.kokyaku');
// Without an SMTP server, journeys' mails land as .eml files in .kokyaku/mail.
const mailFolder = process.env.KOKYAKU_SMTP_URL ? null : new MailFolder(path.join(dataRoot, 'mail'), '"Kokyaku Coffee" <shop@localhost>');
const kokyaku = await createKokyaku({
  shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
  // The example plugin (examples/plugin-loyalty): 1 point per ¥100, Customer.loyalty, points_balance.
  plugins: [loyaltyPlugin({ pointsPerUnit: 0.01, expiryDays: 365 })],
  messaging: {
    publicUrl: process.env.KOKYAKU_PUBLIC_URL ?? `http://localhost:${port}/crm/m`,
    adapters: mailFolder ? { EMAIL: mailFolder } : {},
  },
  // CSV files uploaded in the staff console's Import screen land here.
  imports: { directory: process.env.KOKYAKU_IMPORT_DIR ?? path.join(dataRoot, 'imports') },
  database: {
    embedded: {
      dataDir: process.env.KOKYAKU_DATA_DIR ?? path.join(dataRoot, 'postgres'),
      databaseName: 'kokyaku_example',
    },
  },
});
log(kokyaku.embedded ? `embedded PostgreSQL ${kokyaku.embedded.dataDir} (port ${kokyaku.embedded.port})` : 'PostgreSQL from DATABASE_URL');

const pool = new pg.Pool({ connectionString: kokyaku.databaseUrl, max: 10 });
pool.on('error', (error) => log(`idle database connection failed: ${error.message}`));
await migrateShop(pool);
const seeded = await seedDemoShop(pool, kokyaku, { customers: Number(process.env.DEMO_CUSTOMERS ?? 3000) }, log);
if (seeded) log(`demo data loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
await flushOutbox(pool, kokyaku, log);

const shop = await createShopApp({ kokyaku, pool, staffToken, viewerToken, log, explorerToken: local });
// The journey worker: thank-you mails, follow-ups, win-backs (docs/automation.md).
const worker = await kokyaku.startWorker({ log });
const retry = setInterval(() => void shop.sync(), 5000);
// Nightly: RFM scores drift with the calendar and the CLV models are refitted.
const nightly = scheduleRefresh(kokyaku, { intervalMs: 24 * 3_600_000 });
const server = shop.app.listen(port, host, () => {
  const base = `http://${local ? 'localhost' : host}:${(server.address() as import('node:net').AddressInfo).port}`;
  process.stdout.write(`
Kokyaku example shop is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)
  Shop:              ${base}/
  Storefront:        ${base}/storefront/  (React, @kokyaku/client hooks; staff page: ${base}/storefront/staff)
  Shop API:          ${base}/api/products
  CRM staff console: ${base}/crm/console/  (sign in with the staff token)
  CRM GraphQL:       ${base}/crm/graphql  (explorer: open it in a browser${local ? '' : '; paste the staff token into its headers'})
  CRM staff token:   ${staffToken}   (header  Authorization: Bearer ${staffToken})
${viewerToken ? `  CRM viewer token:  ${viewerToken}   (read-only: contact data masked)\n` : ''}  Journey mails:     ${mailFolder ? mailFolder.dir : 'sent over KOKYAKU_SMTP_URL'}
${local ? '' : `  Listening on ${host}: anyone who reaches this address can use the shop; keep the staff token to yourself.\n`}Press Ctrl-C to stop.
`);
});
server.on('error', async (error: NodeJS.ErrnoException) => {
  process.stderr.write(error.code === 'EADDRINUSE' ? `Port ${port} is in use: stop the other program or run PORT=3001 pnpm start\n` : `${error.message}\n`);
  await kokyaku.close();
  process.exit(1);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(retry);
  nightly.stop();
  await worker.stop();
  server.closeAllConnections();
  server.close();
  await shop.stop();
  await pool.end();
  await kokyaku.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
