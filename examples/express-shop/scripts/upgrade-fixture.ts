/**
 * Writes the fixture of the upgrade test (packages/core/test/upgrade.test.ts): a shop filled by
 * the code of one commit, every row of every table of schema `kokyaku` as JSON, with the names of
 * the migrations that made them. Run it at the commit whose database the test must upgrade:
 *
 *   git worktree add ../kokyaku-old <commit> && cd ../kokyaku-old && pnpm install --frozen-lockfile
 *   cp <this repository>/examples/express-shop/scripts/upgrade-fixture.ts examples/express-shop/scripts/
 *   cd examples/express-shop && node --import tsx --conditions=@kokyaku/source scripts/upgrade-fixture.ts <out.json>
 *
 * The shop is the example shop's demo data (customers, orders, products, events, segments, CRM
 * records, journeys), then a merge, an erasure, consents and journey runs advanced by a worker.
 */
import { writeFile } from 'node:fs/promises';
import { SYSTEM, bindTenant, sql } from '@kokyaku/core';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import pg from 'pg';
import { seedDemoShop } from '../src/seed.js';
import { migrateShop } from '../src/shop-db.js';

const out = process.argv[2];
if (!out) throw new Error('usage: upgrade-fixture.ts <out.json>');
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
const pool = new pg.Pool({ connectionString: kokyaku.databaseUrl, max: 2 });
try {
  await migrateShop(pool);
  const now = new Date('2026-11-30T03:00:00Z');
  await seedDemoShop(pool, kokyaku, { customers: 80, now });
  const ctx = kokyaku.context({ actor: { id: 'fixture', roles: ['ADMIN'] } });
  const customers = (await kokyaku.customers.list(ctx, { first: 6 })).nodes;
  await kokyaku.identity.merge(ctx, customers[0]!.id, [customers[1]!.id]);
  await kokyaku.privacy.recordConsent(ctx, { id: customers[2]!.id }, { channel: 'EMAIL', granted: true, source: 'fixture' });
  await kokyaku.privacy.eraseCustomer(ctx, { id: customers[3]!.id }, { reason: 'fixture' });
  await kokyaku.privacy.exportCustomer(ctx, { id: customers[4]!.id });
  const worker = await kokyaku.startWorker();
  await worker.stop();

  const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
  const tables = await sql<{ name: string }>(
    em,
    `select table_name as name from information_schema.tables where table_schema = 'kokyaku' and table_type = 'BASE TABLE' order by 1`,
  );
  const rows: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const [r] = await sql<{ v: unknown[] }>(em, `select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]') as v from kokyaku.${name} t`);
    rows[name] = r!.v;
  }
  const migrations = rows.migrations as { name: string }[];
  delete rows.migrations;
  await writeFile(out, `${JSON.stringify({ migrations: migrations.map((m) => m.name).sort(), rows })}\n`);
  console.log(`${out}: ${Object.values(rows).reduce((n, r) => n + r.length, 0)} rows of ${Object.keys(rows).length} tables`);
} finally {
  await pool.end();
  await kokyaku.close();
  await server.stop();
}
