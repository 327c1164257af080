import { type Kokyaku, type KokyakuContext, DATA_MODULES, REACTING_MODULES, SYSTEM, TENANT_TABLES, bindTenant, definePlugin, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// A module from outside with one table keyed by customer, and nothing else: no hook. Declaring the
// table is all it takes for merge, erasure, the data export and shop erasure to cover it; no line
// of identity or privacy code names it.
const visits = definePlugin({
  name: 'visits',
  version: '1.0.0',
  compatibility: '>=0.1.0',
  migrations: [
    {
      name: '001_log',
      up: `create table kokyaku.visits_log (
             id bigint generated always as identity,
             tenant_id text not null,
             customer_id bigint not null,
             store text not null,
             visited_at timestamptz not null default now(),
             primary key (id, tenant_id),
             foreign key (customer_id, tenant_id) references kokyaku.customers (id, tenant_id) on delete cascade)`,
    },
  ],
  tenantTables: ['visits_log'],
  customerTables: [{ table: 'visits_log' }],
});

describe('a module with its own customer-keyed table', () => {
  let kokyaku: Kokyaku;
  const ctx = (tenantId = 'default'): KokyakuContext => kokyaku.context({ tenantId, actor: { id: 'staff', roles: ['ADMIN'] } });
  const visitsOf = async (tenantId: string) =>
    sql<{ customer_id: string; store: string }>(
      bindTenant(kokyaku.orm.em.fork(), SYSTEM),
      `select customer_id::text as customer_id, store from kokyaku.visits_log where tenant_id = $1 order by id`,
      [tenantId],
    );
  const visit = (c: KokyakuContext, customerId: string, store: string) =>
    sql(bindTenant(kokyaku.orm.em.fork(), c.tenantId), `insert into kokyaku.visits_log (tenant_id, customer_id, store) values ($1, $2::bigint, $3)`, [
      c.tenantId,
      customerId,
      store,
    ]);
  const idOf = async (c: KokyakuContext, externalId: string) => (await kokyaku.customers.findByExternalId(c, externalId))!.id;

  beforeAll(async () => {
    kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { plugins: [visits] });
  });
  afterAll(() => kokyaku?.close());

  it('moves its rows to the survivor of a merge', async () => {
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'a', email: 'a@example.com' }, { externalId: 'b' }]);
    const [a, b] = [await idOf(ctx(), 'a'), await idOf(ctx(), 'b')];
    await visit(ctx(), a, 'Shibuya');
    await visit(ctx(), b, 'Umeda');
    await kokyaku.identity.merge(ctx(), a, [b]);
    expect(await visitsOf('default')).toEqual([
      { customer_id: a, store: 'Shibuya' },
      { customer_id: a, store: 'Umeda' },
    ]);
  });

  it('lists them in the data export under the module, and deletes them on erasure', async () => {
    const a = await idOf(ctx(), 'a');
    const data = (await kokyaku.privacy.exportCustomer(ctx(), { id: a })) as { plugins: { visits: { visits_log: { store: string }[] } } };
    expect(data.plugins.visits.visits_log.map((v) => v.store).sort()).toEqual(['Shibuya', 'Umeda']);
    await kokyaku.privacy.eraseCustomer(ctx(), { id: a });
    expect(await visitsOf('default')).toEqual([]);
    const after = (await kokyaku.privacy.exportCustomer(ctx(), { id: a })) as { plugins: { visits: { visits_log: unknown[] } } };
    expect(after.plugins.visits.visits_log).toEqual([]);
  });

  it('empties it with the rest of a shop, and leaves other shops alone', async () => {
    for (const tenant of ['leaving', 'staying']) {
      await kokyaku.customers.upsert(ctx(tenant), [{ externalId: 'c' }]);
      await visit(ctx(tenant), await idOf(ctx(tenant), 'c'), 'Namba');
    }
    await kokyaku.privacy.eraseShop(ctx('leaving'));
    expect(await visitsOf('leaving')).toEqual([]);
    expect(await visitsOf('staying')).toHaveLength(1);
  });

  it('every table of core with a customer column is declared by the module that owns it', async () => {
    const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    const keyed = await sql<{ table: string }>(
      em,
      // Tables, not views (a view reads the tables of its module: customer_product_cycles).
      `select distinct c.table_name as table from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
       where c.table_schema = 'kokyaku' and c.column_name = 'customer_id' and c.table_name not like 'visits\\_%' order by 1`,
    );
    const declared = [...DATA_MODULES, ...REACTING_MODULES].flatMap((m) => (m.customerTables ?? []).map((t) => t.table));
    expect(keyed.map((k) => k.table).filter((t) => !declared.includes(t))).toEqual([]);
    // Each table belongs to one module only.
    const owners = [...DATA_MODULES, ...REACTING_MODULES].flatMap((m) => m.tenantTables ?? []);
    expect(new Set(owners).size).toBe(owners.length);
    expect([...TENANT_TABLES].sort()).toEqual([...owners].sort());
  });
});
