import { HookDispatcher, type Kokyaku, type KokyakuContext, SYSTEM, bindTenant, composeModules, definePlugin, sql } from '@kokyaku/core';
import { moveShop } from '../src/tenancy/move.js';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

/**
 * Moving a shop to another database (docs/scaling.md): every row of every tenant table, a
 * plugin's included, lands in the target with its ids beside the target's own shops, the source
 * keeps its other shops, and a move that stopped half-way, or met a write, loses nothing.
 */
const stamps = definePlugin({
  name: 'stamps',
  version: '1.0.0',
  compatibility: '>=0.1.0',
  migrations: [
    {
      name: '001_stamps',
      up: `create table kokyaku.stamps_cards (
             id bigint generated always as identity, tenant_id text not null, customer_id bigint not null, stamp text not null,
             primary key (id, tenant_id),
             foreign key (customer_id, tenant_id) references kokyaku.customers (id, tenant_id) on delete cascade)`,
    },
  ],
  tenantTables: ['stamps_cards'],
  customerTables: [{ table: 'stamps_cards' }],
});

let source: Kokyaku;
let target: Kokyaku;
beforeAll(async () => {
  const config = { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' }, plugins: [stamps] };
  [source, target] = await Promise.all([createTestKokyaku(inject('kokyakuAdminUrl'), config), createTestKokyaku(inject('kokyakuAdminUrl'), config)]);
});
afterAll(async () => {
  await source?.close();
  await target?.close();
});

const ctx = (k: Kokyaku, tenantId: string): KokyakuContext => k.context({ tenantId, actor: { id: 'staff', roles: ['ADMIN'] } });

/** A shop with customers, orders and lines, events, a segment, a note, a deal and plugin rows. */
async function fill(k: Kokyaku, tenantId: string, n: number): Promise<void> {
  const c = ctx(k, tenantId);
  await k.orders.record(
    c,
    Array.from({ length: n }, (_, i) => ({
      externalId: `${tenantId}-o${i}`,
      customerExternalId: `${tenantId}-c${i % 7}`,
      placedAt: new Date(Date.UTC(2026, 0, 1 + i)),
      lines: [
        { productExternalId: `p${i % 5}`, quantity: 1 + (i % 3), unitPrice: 1000 + i },
        { productExternalId: `p${(i + 1) % 5}`, quantity: 1, unitPrice: 500 },
      ],
    })),
  );
  await k.events.track(c, [
    { eventId: `${tenantId}-e1`, type: 'product_viewed', customerExternalId: `${tenantId}-c1`, productExternalId: 'p1', occurredAt: new Date('2026-02-01') },
  ]);
  await k.segments.create(c, { name: 'Repeat', query: 'number_of_orders >= 2' });
  const [customer] = await sql<{ id: string }>(c.em, `select id::text from kokyaku.customers where tenant_id = $1 and external_id = $2`, [tenantId, `${tenantId}-c1`]);
  await k.notes.add(c, { customerId: customer!.id, body: `Called ${tenantId}` });
  await sql(c.em, `insert into kokyaku.stamps_cards (tenant_id, customer_id, stamp) values ($1, $2::bigint, 'gold')`, [tenantId, customer!.id]);
  await k.refresh();
}

/** Rows of the shop per tenant table, and what a profile shows. */
async function snapshot(k: Kokyaku, tenantId: string) {
  const em = bindTenant(k.orm.em.fork(), SYSTEM);
  const counts: Record<string, number> = {};
  for (const table of ['customers', 'orders', 'order_lines', 'products', 'events', 'segments', 'segment_members', 'notes', 'customer_facts', 'stamps_cards']) {
    const [row] = await sql<{ n: number }>(em, `select count(*)::int as n from kokyaku.${table} where tenant_id = $1`, [tenantId]);
    counts[table] = row!.n;
  }
  // The profile as the API shows it: ids, metrics, RFM, dates.
  const profile = await k.customers.findByExternalId(ctx(k, tenantId), `${tenantId}-c1`);
  return { counts, profile };
}

it("moves a shop with its ids beside the target's shops, and erases it from the source only", async () => {
  await fill(source, 'shop-a', 12);
  await fill(source, 'shop-c', 5);
  // The target already has a shop whose ids are the same numbers as shop-a's.
  await fill(target, 'shop-b', 12);
  const before = await snapshot(source, 'shop-a');
  const bBefore = await snapshot(target, 'shop-b');
  const cBefore = await snapshot(source, 'shop-c');
  expect(before.counts.stamps_cards).toBe(1);

  const moved = await source.moveShop('shop-a', target.databaseUrl);
  expect(moved.resumed).toBe(false);
  expect(moved.rows).toBeGreaterThan(50);
  expect(moved.tables.find((t) => t.table === 'stamps_cards')?.rows).toBe(1);

  expect(await snapshot(target, 'shop-a')).toEqual(before);
  expect(await snapshot(target, 'shop-b')).toEqual(bBefore);
  expect((await snapshot(source, 'shop-a')).counts).toEqual(Object.fromEntries(Object.keys(before.counts).map((t) => [t, 0])));
  expect(await snapshot(source, 'shop-c')).toEqual(cBefore);

  // The moved shop lives on in the target: new rows get ids of their own.
  const more = await target.orders.record(ctx(target, 'shop-a'), [
    { externalId: 'shop-a-new', customerExternalId: 'shop-a-c99', placedAt: new Date('2026-03-01'), lines: [{ productExternalId: 'p9', quantity: 1, unitPrice: 100 }] },
  ]);
  expect(more.created).toBe(1);
});

it('goes on after a move that stopped after copying, and refuses a target with other rows of the shop', async () => {
  await fill(source, 'shop-d', 6);
  const before = await snapshot(source, 'shop-d');
  // Stopped before the erasure (a crash): the copy is in the target, the source is whole.
  await expect(
    moveShop({
      sourceUrl: source.databaseUrl,
      targetUrl: target.databaseUrl,
      tenantId: 'shop-d',
      tables: new HookDispatcher(composeModules([stamps])).tenantTables(),
      erase: async () => {
        throw new Error('crashed before erasing');
      },
    }),
  ).rejects.toThrow(/crashed before erasing/);
  expect(await snapshot(target, 'shop-d')).toEqual(before);
  expect(await snapshot(source, 'shop-d')).toEqual(before);
  // Run again: nothing copied twice, the source erased.
  const again = await source.moveShop('shop-d', target.databaseUrl);
  expect(again.resumed).toBe(true);
  expect(await snapshot(target, 'shop-d')).toEqual(before);
  expect((await snapshot(source, 'shop-d')).counts.customers).toBe(0);

  // A target holding other rows of a shop is refused, and nothing changes.
  await fill(source, 'shop-e', 3);
  await fill(target, 'shop-e', 2);
  const e = await snapshot(source, 'shop-e');
  await expect(source.moveShop('shop-e', target.databaseUrl)).rejects.toThrow(/already holds rows of shop "shop-e"/);
  expect(await snapshot(source, 'shop-e')).toEqual(e);
});

it('stops before erasing when the shop is written to during the move', async () => {
  await fill(source, 'shop-f', 4);
  const before = await snapshot(source, 'shop-f');
  let wrote = false;
  await expect(
    source.moveShop('shop-f', target.databaseUrl, {
      onTable: async () => {
        if (wrote) return;
        wrote = true;
        await source.customers.upsert(ctx(source, 'shop-f'), [{ externalId: 'shop-f-late' }]);
      },
    }),
  ).rejects.toThrow(/was written to during the move/);
  // Nothing lost: the source has everything, the late customer too.
  const after = await snapshot(source, 'shop-f');
  expect(after.counts.customers).toBe(before.counts.customers! + 1);
  expect((await snapshot(target, 'shop-f')).counts.customers).toBe(before.counts.customers);
});
