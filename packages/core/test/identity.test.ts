import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, type KokyakuContext, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

let kokyaku: Kokyaku;
const ctx = (tenantId = 'default'): KokyakuContext => kokyaku.context({ tenantId, actor: { id: 'staff-1', roles: ['ADMIN'] } });
const line = (sku: string, quantity: number, unitPrice: number) => ({ productExternalId: sku, quantity, unitPrice });

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
  // One person, three ways: an account, a guest checkout with the same email, a LINE follower with the same phone.
  await kokyaku.customers.upsert(ctx(), [
    { externalId: 'acct-1', email: 'hanako@example.jp', firstName: '花子', lastName: '山田', tags: ['member'] },
    { externalId: 'guest-9', email: 'Hanako@Example.jp', phone: '090-1111-2222', city: '札幌', tags: ['guest'], customFields: { source: 'checkout' } },
    { externalId: 'line-3', phone: '+81 90 1111 2222', birthday: '1990-04-01' },
    { externalId: 'other', email: 'taro@example.jp' },
  ]);
  await kokyaku.orders.record(ctx(), [
    { externalId: 'o-1', customerExternalId: 'acct-1', placedAt: new Date('2026-01-10T00:00:00Z'), lines: [line('tea', 2, 1000)] },
    { externalId: 'o-2', customerExternalId: 'guest-9', placedAt: new Date('2026-03-01T00:00:00Z'), lines: [line('tea', 1, 1000), line('cup', 1, 3000)] },
    { externalId: 'o-3', customerExternalId: 'line-3', placedAt: new Date('2026-02-01T00:00:00Z'), lines: [line('cup', 1, 3000)] },
  ]);
  await kokyaku.events.track(ctx(), [
    { eventId: 'e-1', type: 'product_viewed', customerExternalId: 'line-3', productExternalId: 'tea', occurredAt: new Date('2026-02-02T00:00:00Z') },
  ]);
  await kokyaku.segments.create(ctx(), { name: 'two or more orders', query: 'number_of_orders >= 2' });
});
afterAll(() => kokyaku?.close());

const id = async (externalId: string) => (await kokyaku.customers.findByExternalId(ctx(), externalId))!.id;

describe('identity resolution', () => {
  it('finds duplicate candidates by normalised email and phone', async () => {
    const groups = await kokyaku.identity.duplicates(ctx());
    expect(groups.map((g) => [g.rule, g.customerIds])).toEqual([
      ['EMAIL', [await id('acct-1'), await id('guest-9')]],
      ['PHONE', [await id('guest-9'), await id('line-3')]],
    ]);
  });

  it('previews a merge: what each field becomes, which orders and events move; nothing changes', async () => {
    const preview = await kokyaku.identity.preview(ctx(), await id('acct-1'), [await id('guest-9'), await id('line-3')]);
    const field = (name: string) => preview.fields.find((f) => f.field === name)!;
    expect(field('email')).toMatchObject({ value: 'hanako@example.jp', fromCustomerId: await id('acct-1') });
    expect(field('phone')).toMatchObject({ value: '+819011112222', fromCustomerId: await id('guest-9') });
    expect(field('birthday').value).toBe('1990-04-01');
    expect(field('tags').value).toEqual(['guest', 'member']);
    expect(preview).toMatchObject({ ordersMoved: 2, eventsMoved: 1, aliases: ['guest-9', 'line-3'] });
    expect(await kokyaku.customers.count(ctx())).toBe(4);
  });

  it('merges: metrics equal the union, the old ids land on the survivor, segments follow', async () => {
    const survivor = await id('acct-1');
    const others = [await id('guest-9'), await id('line-3')];
    expect(await kokyaku.segments.count(ctx(), 'number_of_orders >= 2')).toBe(0);
    await kokyaku.identity.merge(ctx(), survivor, others);

    const merged = (await kokyaku.customers.findById(ctx(), survivor))!;
    expect(merged.metrics).toMatchObject({ ordersCount: 3, totalSpent: 2000 + 4000 + 3000 });
    expect(merged.metrics.firstOrderAt).toEqual(new Date('2026-01-10T00:00:00Z'));
    expect(merged.metrics.lastOrderAt).toEqual(new Date('2026-03-01T00:00:00Z'));
    expect(merged).toMatchObject({
      email: 'hanako@example.jp',
      phone: '+819011112222',
      city: '札幌',
      birthday: '1990-04-01',
      tags: ['guest', 'member'],
      customFields: { source: 'checkout' },
    });
    expect(await kokyaku.customers.count(ctx())).toBe(2);
    expect(await kokyaku.segments.count(ctx(), 'number_of_orders >= 2')).toBe(1);
    expect((await kokyaku.segments.segmentsOfCustomers(ctx(), [survivor])).get(survivor)!.map((s) => s.name)).toEqual(['two or more orders']);
    expect(await kokyaku.segments.count(ctx(), `events MATCHES (type = 'product_viewed')`)).toBe(1);

    // Later records under either old id land on the survivor.
    expect((await kokyaku.customers.findByExternalId(ctx(), 'guest-9'))!.id).toBe(survivor);
    await kokyaku.orders.record(ctx(), [{ externalId: 'o-4', customerExternalId: 'guest-9', placedAt: new Date('2026-04-01T00:00:00Z'), lines: [line('tea', 1, 1000)] }]);
    await kokyaku.events.track(ctx(), [
      { eventId: 'e-2', type: 'added_to_cart', customerExternalId: 'line-3', productExternalId: 'cup', occurredAt: new Date('2026-04-02T00:00:00Z') },
    ]);
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'line-3', region: '北海道' }]);
    const after = (await kokyaku.customers.findById(ctx(), survivor))!;
    expect(after.metrics).toMatchObject({ ordersCount: 4, totalSpent: 10000 });
    expect(after.region).toBe('北海道');
    expect(await kokyaku.customers.count(ctx())).toBe(2);
    const [events] = await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.events where tenant_id = 'default' and customer_id = $1::bigint`, [survivor]);
    expect(events!.n).toBe(2);

    // Recommendations follow: what the survivor bought is the union.
    const [bought] = await sql<{ tea: number; cup: number }>(
      ctx().em,
      `select sum(quantity) filter (where p.external_id = 'tea')::int as tea, sum(quantity) filter (where p.external_id = 'cup')::int as cup
       from kokyaku.customer_products cp join kokyaku.products p on p.id = cp.product_id where cp.customer_id = $1::bigint`,
      [survivor],
    );
    expect(bought).toEqual({ tea: 4, cup: 2 });

    const audit = await kokyaku.audit.list(ctx(), { customerId: survivor, action: 'MERGE' });
    expect(audit.nodes[0]).toMatchObject({ actorId: 'staff-1', detail: { merged: others } });
  });

  it('refuses a bad merge with a coded error and changes nothing', async () => {
    const survivor = await id('acct-1');
    await expect(kokyaku.identity.merge(ctx(), survivor, [survivor])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(kokyaku.identity.merge(ctx(), survivor, ['999999'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(kokyaku.identity.merge(ctx(), survivor, [])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await kokyaku.customers.count(ctx())).toBe(2);
  });

  it('erasing a merged customer also forgets its old ids and the unfinished imports that name it', async () => {
    const survivor = await id('acct-1');
    // An import of orders that stopped half-way, with a line for the guest id.
    const [run] = await sql<{ id: string }>(
      ctx().em,
      `insert into kokyaku.import_runs (tenant_id, kind, file_name, file_hash, settings, status) values ('default', 'orders', 'o.csv', 'h', '{}', 'APPLYING') returning id::text as id`,
    );
    await sql(
      ctx().em,
      `insert into kokyaku.import_rows (run_id, tenant_id, line, key, doc) values ($1::bigint, 'default', 2, 'o-9', '{"customerExternalId": "guest-9"}'), ($1::bigint, 'default', 3, 'o-8', '{"customerExternalId": "other"}')`,
      [run!.id],
    );
    await kokyaku.privacy.eraseCustomer(ctx(), { id: survivor });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'guest-9')).toBeNull();
    const [aliases] = await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.customer_aliases where tenant_id = 'default'`);
    expect(aliases!.n).toBe(0);
    const staged = await sql<{ key: string }>(ctx().em, `select key from kokyaku.import_rows where run_id = $1::bigint`, [run!.id]);
    expect(staged.map((r) => r.key)).toEqual(['o-8']);
  });
});
