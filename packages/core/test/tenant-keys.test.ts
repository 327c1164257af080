import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku, tenantKeyProblems } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

/**
 * Citus-ready tenancy (docs/scaling.md): the catalog of a migrated database has no tenant table
 * whose keys lack tenant_id, so that the schema distributes by tenant as it is, and no row can
 * point at another shop's row.
 */
let kokyaku: Kokyaku;
beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'));
});
afterAll(async () => {
  await kokyaku?.close();
});

it('has tenant_id in every primary key, unique constraint, unique index and foreign key of every tenant table', async () => {
  expect(await tenantKeyProblems(kokyaku)).toEqual([]);
});

it('finds a tenant table whose key lacks tenant_id (the check can fail)', async () => {
  const knex = kokyaku.orm.em.getKnex();
  await knex.raw(`create table kokyaku.careless (id bigint primary key, tenant_id text not null)`);
  await knex.raw(
    `create table kokyaku.careless2 (id bigint, tenant_id text not null, code text, customer_id bigint, primary key (id, tenant_id), foreign key (customer_id) references kokyaku.careless (id))`,
  );
  await knex.raw(`create unique index careless2_code on kokyaku.careless2 (code)`);
  try {
    expect(await tenantKeyProblems(kokyaku)).toEqual([
      'careless2: foreign key careless2_customer_id_fkey lacks tenant_id',
      'careless2: unique index kokyaku.careless2_code lacks tenant_id',
      'careless: primary key careless_pkey lacks tenant_id',
    ]);
  } finally {
    await knex.raw('drop table kokyaku.careless2, kokyaku.careless');
  }
});

it("refuses a row that points at another shop's row", async () => {
  const a = kokyaku.context({ tenantId: 'shop-a' });
  const b = kokyaku.context({ tenantId: 'shop-b' });
  await kokyaku.orders.record(a, [
    { externalId: 'o-a', customerExternalId: 'c-a', placedAt: new Date('2026-01-01'), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 100 }] },
  ]);
  await kokyaku.customers.upsert(b, [{ externalId: 'c-b' }]);
  const knex = kokyaku.orm.em.getKnex();
  const [{ id: customerOfA }] = (await knex.raw(`select id from kokyaku.customers where tenant_id = 'shop-a'`)).rows;
  // An order of shop b naming shop a's customer: the composite foreign key refuses it.
  await expect(
    knex.raw(
      `insert into kokyaku.orders (tenant_id, external_id, customer_id, placed_at, currency, status, total_minor, lines_digest) values ('shop-b', 'o-x', ?, now(), 'JPY', 'PLACED', 0, '')`,
      [customerOfA],
    ),
  ).rejects.toThrow(/violates foreign key constraint "orders_customer_id_fkey"/);
});
