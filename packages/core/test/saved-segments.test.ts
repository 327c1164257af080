import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

let kokyaku: Kokyaku;
const ctx = (tenantId?: string) => kokyaku.context({ tenantId });
const order = (externalId: string, customer: string, amount: number, status: 'PLACED' | 'CANCELLED' = 'PLACED') => ({
  externalId,
  customerExternalId: customer,
  placedAt: new Date().toISOString(),
  status,
  lines: [{ productExternalId: 'p', quantity: 1, unitPrice: amount }],
});

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY' } });
});
afterAll(() => kokyaku?.close());

async function members(segmentId: string) {
  return (await kokyaku.segments.customers(ctx(), (await kokyaku.segments.get(ctx(), segmentId))!.query, { first: 100 })).nodes.map((c) => c.externalId).sort();
}

describe('saved segments', () => {
  it('creates, lists, updates and deletes, with clear errors', async () => {
    const s = await kokyaku.segments.create(ctx(), { name: 'Big spenders', query: 'amount_spent >= 10000' });
    expect(s).toMatchObject({ name: 'Big spenders', query: 'amount_spent >= 10000' });
    await expect(kokyaku.segments.create(ctx(), { name: 'Big spenders', query: 'amount_spent >= 1' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(kokyaku.segments.create(ctx(), { name: 'Broken', query: 'amount_spnt >= 1' })).rejects.toMatchObject({
      code: 'SEGMENT_QUERY_INVALID',
      details: { line: 1, column: 1, suggestion: 'amount_spent' },
    });
    expect((await kokyaku.segments.list(ctx())).nodes.map((n) => n.name)).toEqual(['Big spenders']);
    const renamed = await kokyaku.segments.update(ctx(), s.id, { name: 'Whales' });
    expect(renamed.name).toBe('Whales');
    expect(await kokyaku.segments.get(ctx('other-shop'), s.id)).toBeNull();
    expect(await kokyaku.segments.delete(ctx(), s.id)).toBe(true);
    expect(await kokyaku.segments.get(ctx(), s.id)).toBeNull();
  });

  it('records customers entering and leaving in the transaction of the order that moved them', async () => {
    await kokyaku.orders.record(ctx(), [order('m-1', 'alice', 4000), order('m-2', 'bob', 12000)]);
    const vip = await kokyaku.segments.create(ctx(), { name: 'VIP', query: 'amount_spent >= 10000' });
    const repeat = await kokyaku.segments.create(ctx(), { name: 'Repeat', query: 'number_of_orders >= 2' });
    // Creating a segment fills it without reporting everyone as having entered.
    expect(await members(vip.id)).toEqual(['bob']);
    const start = (await kokyaku.segments.changes(ctx())).at(-1)?.id;

    await kokyaku.orders.record(ctx(), [order('m-3', 'alice', 7000)]);
    const alice = await kokyaku.customers.findByExternalId(ctx(), 'alice');
    let changes = await kokyaku.segments.changes(ctx(), { afterId: start });
    expect(changes.map((c) => [c.segmentId, c.customerId, c.change])).toEqual([
      [vip.id, alice!.id, 'ENTERED'],
      [repeat.id, alice!.id, 'ENTERED'],
    ]);
    expect(Date.now() - changes[0]!.occurredAt.getTime()).toBeLessThan(1000);
    expect((await kokyaku.segments.segmentsOfCustomers(ctx(), [alice!.id])).get(alice!.id)!.map((s) => s.name)).toEqual(['VIP', 'Repeat']);

    await kokyaku.orders.record(ctx(), [order('m-3', 'alice', 7000, 'CANCELLED')]);
    changes = await kokyaku.segments.changes(ctx(), { afterId: changes.at(-1)!.id });
    expect(changes.map((c) => [c.segmentId, c.change])).toEqual([
      [vip.id, 'LEFT'],
      [repeat.id, 'LEFT'],
    ]);

    // The same order again changes nothing and records nothing.
    await kokyaku.orders.record(ctx(), [order('m-3', 'alice', 7000, 'CANCELLED')]);
    expect(await kokyaku.segments.changes(ctx(), { afterId: changes.at(-1)!.id })).toEqual([]);
  });

  it('follows customer profile changes and events too', async () => {
    const tagged = await kokyaku.segments.create(ctx(), { name: 'Tagged', query: "customer_tags CONTAINS 'vip'" });
    const browsing = await kokyaku.segments.create(ctx(), { name: 'Browsing', query: "events MATCHES (type = 'product_viewed')" });
    const mark = (await kokyaku.segments.changes(ctx())).at(-1)?.id;
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'carol', tags: ['vip'] }]);
    await kokyaku.events.track(ctx(), [{ eventId: 'ev-1', type: 'product_viewed', customerExternalId: 'carol', occurredAt: new Date() }]);
    const changes = await kokyaku.segments.changes(ctx(), { afterId: mark });
    expect(changes.map((c) => [c.segmentId, c.change])).toEqual([
      [tagged.id, 'ENTERED'],
      [browsing.id, 'ENTERED'],
    ]);
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'carol', tags: [] }]);
    expect((await kokyaku.segments.changes(ctx(), { afterId: changes.at(-1)!.id })).map((c) => [c.segmentId, c.change])).toEqual([[tagged.id, 'LEFT']]);
  });

  it('places a customer first named by an event in every segment; events move known customers in segments that read events', async () => {
    const never = await kokyaku.segments.create(ctx(), { name: 'Never ordered', query: 'number_of_orders = 0' });
    const carted = await kokyaku.segments.create(ctx(), { name: 'Carted', query: "events MATCHES (type = 'added_to_cart')" });
    let mark = (await kokyaku.segments.changes(ctx())).at(-1)?.id;
    await kokyaku.events.track(ctx(), [{ eventId: 'ev-dave', type: 'added_to_cart', customerExternalId: 'dave', occurredAt: new Date() }]);
    const dave = await kokyaku.customers.findByExternalId(ctx(), 'dave');
    let changes = await kokyaku.segments.changes(ctx(), { afterId: mark });
    expect(changes.map((c) => [c.segmentId, c.customerId, c.change])).toEqual([
      [never.id, dave!.id, 'ENTERED'],
      [carted.id, dave!.id, 'ENTERED'],
    ]);
    mark = changes.at(-1)!.id;
    const carol = await kokyaku.customers.findByExternalId(ctx(), 'carol');
    await kokyaku.events.track(ctx(), [{ eventId: 'ev-carol-cart', type: 'added_to_cart', customerExternalId: 'carol', occurredAt: new Date() }]);
    changes = await kokyaku.segments.changes(ctx(), { afterId: mark });
    expect(changes.map((c) => [c.segmentId, c.customerId, c.change])).toEqual([[carted.id, carol!.id, 'ENTERED']]);
  });

  it('refresh re-evaluates every member (relative dates move with the calendar)', async () => {
    const segment = await kokyaku.segments.create(ctx(), { name: 'Lapsed', query: 'last_order_date < -30d' });
    expect(await members(segment.id)).toEqual([]);
    // Age bob's only order by 60 days, behind Kokyaku's back, as time passing would.
    await kokyaku.orm.em.fork().getConnection().execute(`update kokyaku.orders set placed_at = placed_at - interval '60 days' where external_id = 'm-2'`);
    await kokyaku.refresh();
    expect(await members(segment.id)).toEqual(['bob']);
    const changes = await kokyaku.segments.changes(ctx());
    expect(changes.filter((c) => c.segmentId === segment.id).map((c) => c.change)).toEqual(['ENTERED']);
  });
});
