import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Kokyaku, KokyakuContext } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { SYSTEM, bindTenant, sql, transaction } from '../src/shared/sql.js';

let kokyaku: Kokyaku;
const ctx = (tenantId: string): KokyakuContext => kokyaku.context({ tenantId });

/** Two shops with the same shop ids and different figures. */
async function seed(tenantId: string, quantity: number): Promise<void> {
  const c = ctx(tenantId);
  await kokyaku.products.upsert(c, [
    { externalId: 'p-1', name: `${tenantId} coffee`, price: 1000, categories: ['coffee'] },
    { externalId: 'p-2', name: `${tenantId} mug`, price: 2000 },
  ]);
  await kokyaku.customers.upsert(c, [
    { externalId: 'c-1', email: `hanako@${tenantId}.example`, firstName: 'Hanako', tags: ['vip'] },
    { externalId: 'c-2', email: `taro@${tenantId}.example`, firstName: 'Taro' },
  ]);
  for (const [i, customer] of ['c-1', 'c-2', 'c-1'].entries()) {
    await kokyaku.orders.record(c, [
      {
        externalId: `o-${i}`,
        customerExternalId: customer,
        placedAt: new Date(Date.UTC(2026, 5, 1 + i)),
        lines: [
          { productExternalId: 'p-1', quantity, unitPrice: 1000 },
          { productExternalId: 'p-2', quantity: 1, unitPrice: 2000 },
        ],
      },
    ]);
  }
  await kokyaku.events.track(c, [{ eventId: 'e-1', type: 'product_viewed', customerExternalId: 'c-1', productExternalId: 'p-1', occurredAt: new Date() }]);
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY' } });
  await seed('shop-a', 1);
  await seed('shop-b', 5);
  await kokyaku.customers.upsert(ctx('shop-b'), [{ externalId: 'only-b', email: 'only@shop-b.example' }]);
  await kokyaku.refresh();
});
afterAll(() => kokyaku?.close());

describe('row-level security', () => {
  it('guards every table with a tenant_id: enabled, forced, and a policy on the tenant setting', async () => {
    const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    const tables = await sql<{ table: string; rls: boolean; forced: boolean; policy: string | null }>(
      em,
      `select c.relname as table, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
              (select p.qual from pg_policies p where p.schemaname = 'kokyaku' and p.tablename = c.relname and p.policyname = 'tenant_isolation') as policy
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'kokyaku' and c.relkind in ('r', 'p')
          and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        order by 1`,
    );
    expect(tables.length).toBeGreaterThanOrEqual(19);
    const unguarded = tables.filter((t) => !t.rls || !t.forced || !t.policy?.includes(`current_setting('kokyaku.tenant_id'`));
    expect(unguarded.map((t) => t.table)).toEqual([]);
  });

  it('shows a statement without a tenant condition only its own tenant', async () => {
    const count = async (tenantId: string) => (await sql<{ n: number }>(ctx(tenantId).em, `select count(*)::int as n from kokyaku.customers`))[0]!.n;
    expect(await count('shop-a')).toBe(2);
    expect(await count('shop-b')).toBe(3);
    expect(await count('nobody')).toBe(0);
    // And inside transactions, also after another tenant used the same pooled connections.
    const inTransaction = await transaction(ctx('shop-a'), async (em) => (await sql<{ n: number }>(em, `select count(*)::int as n from kokyaku.orders`))[0]!.n);
    expect(inTransaction).toBe(3);
  });

  it('refuses to write a row of another tenant', async () => {
    await expect(sql(ctx('shop-a').em, `insert into kokyaku.customers (tenant_id, external_id) values ('shop-b', 'smuggled')`)).rejects.toThrow(/row-level security/);
    await expect(transaction(ctx('shop-a'), (em) => sql(em, `update kokyaku.customers set first_name = 'x' where tenant_id = 'shop-b' returning id`))).resolves.toEqual([]);
    const [b] = await sql<{ n: number }>(ctx('shop-b').em, `select count(*)::int as n from kokyaku.customers where first_name = 'x' or external_id = 'smuggled'`);
    expect(b!.n).toBe(0);
  });

  it('refuses statements on an EntityManager bound to no tenant, and transactions that entered none', async () => {
    await expect(sql(kokyaku.orm.em.fork(), 'select 1')).rejects.toThrow(/bound to no tenant/);
    await expect(ctx('shop-a').em.transactional((em) => sql(em, 'select 1'))).rejects.toThrow(/did not enter a tenant/);
  });
});

describe('services keep tenants apart', () => {
  it("lists, counts and finds only the caller's customers", async () => {
    const a = ctx('shop-a');
    expect((await kokyaku.customers.list(a)).nodes.map((c) => c.externalId).sort()).toEqual(['c-1', 'c-2']);
    expect(await kokyaku.customers.count(a)).toBe(2);
    expect(await kokyaku.customers.findByExternalId(a, 'only-b')).toBeNull();
    const bCustomer = (await kokyaku.customers.findByExternalId(ctx('shop-b'), 'only-b'))!;
    // A DataLoader batch of ids mixing both tenants returns only the caller's.
    const aIds = (await kokyaku.customers.list(a)).nodes.map((c) => c.id);
    const found = await kokyaku.customers.findByIds(a, [...aIds, bCustomer.id]);
    expect([...found.keys()].sort()).toEqual([...aIds].sort());
    expect(await kokyaku.customers.findById(a, bCustomer.id)).toBeNull();
    expect((await kokyaku.customers.search(a, 'only@shop-b')).nodes).toEqual([]);
    expect((await kokyaku.customers.search(a, 'hanako')).nodes.map((h) => h.customer.email)).toEqual(['hanako@shop-a.example']);
  });

  it('keeps metrics, segments and reports per tenant', async () => {
    const c1a = (await kokyaku.customers.findByExternalId(ctx('shop-a'), 'c-1'))!;
    const c1b = (await kokyaku.customers.findByExternalId(ctx('shop-b'), 'c-1'))!;
    expect(c1a.metrics.totalSpent).toBe(2 * (1000 + 2000));
    expect(c1b.metrics.totalSpent).toBe(2 * (5000 + 2000));
    expect(await kokyaku.segments.count(ctx('shop-a'), 'amount_spent >= 1')).toBe(2);
    expect(await kokyaku.segments.count(ctx('shop-b'), 'amount_spent >= 1')).toBe(2);
    expect(await kokyaku.segments.count(ctx('shop-a'), `customer_tags CONTAINS 'vip'`)).toBe(1);
    expect(await kokyaku.segments.count(ctx('shop-a'), `events MATCHES (type = 'product_viewed')`)).toBe(1);
    const saved = await kokyaku.segments.create(ctx('shop-a'), { name: 'buyers', query: 'number_of_orders >= 1' });
    expect(await kokyaku.segments.get(ctx('shop-b'), saved.id)).toBeNull();
    expect((await kokyaku.segments.list(ctx('shop-b'))).nodes).toEqual([]);
    const members = await kokyaku.segments.segmentsOfCustomers(ctx('shop-b'), [c1a.id, c1b.id]);
    expect(members.get(c1a.id) ?? []).toEqual([]);
    const rfmA = await kokyaku.analytics.rfmReport(ctx('shop-a'));
    expect(JSON.stringify(rfmA)).not.toContain('shop-b');
  });

  it("recommends only from the caller's catalog and history", async () => {
    const recsA = await kokyaku.recommendations.recommend(ctx('shop-a'), { productExternalId: 'p-1', strategy: 'BOUGHT_TOGETHER', first: 5 });
    expect(recsA.map((r) => r.product.name)).toEqual(['shop-a mug']);
    const popular = await kokyaku.recommendations.recommend(ctx('shop-b'), { strategy: 'POPULAR', first: 5 });
    expect(popular.map((r) => r.product.name).every((n) => n.startsWith('shop-b'))).toBe(true);
    expect(await kokyaku.recommendations.recommend(ctx('nobody'), { strategy: 'POPULAR', first: 5 })).toEqual([]);
  });
});
