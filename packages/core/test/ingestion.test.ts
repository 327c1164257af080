import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, type OrderInput, KokyakuError } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { sql } from '../src/shared/sql.js';

let kokyaku: Kokyaku;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
});
afterAll(() => kokyaku?.close());

const ctx = (tenantId?: string) => kokyaku.context({ tenantId });

async function count(table: string, tenantId = 'default'): Promise<number> {
  const [row] = await sql<{ n: number }>(ctx(tenantId).em, `select count(*)::int as n from kokyaku.${table} where tenant_id = $1`, [tenantId]);
  return row!.n;
}

function order(externalId: string, customerExternalId: string, placedAt: string, lines: [string, number, number][], status?: 'PLACED' | 'CANCELLED'): OrderInput {
  return {
    externalId,
    customerExternalId,
    placedAt,
    ...(status ? { status } : {}),
    lines: lines.map(([productExternalId, quantity, unitPrice]) => ({ productExternalId, quantity, unitPrice })),
  };
}

describe('idempotent ingestion', () => {
  it('stores a batch once: the same batch again changes nothing', async () => {
    const products = [
      { externalId: 'idem-p1', name: 'Drip bag coffee', price: 1200, categories: ['coffee'], tags: ['new'] },
      { externalId: 'idem-p2', name: 'Sencha', price: 800, categories: ['tea'] },
    ];
    const customers = [
      { externalId: 'idem-c1', email: 'a@example.jp', firstName: 'Hanako', tags: ['vip'] },
      { externalId: 'idem-c2', email: 'b@example.jp', phone: '090-1234-5678' },
    ];
    const orders = [
      order('idem-o1', 'idem-c1', '2026-01-10T09:00:00Z', [['idem-p1', 2, 1200]]),
      order('idem-o2', 'idem-c1', '2026-02-10T09:00:00Z', [
        ['idem-p2', 1, 800],
        ['idem-p1', 1, 1200],
      ]),
      order('idem-o3', 'idem-c2', '2026-03-10T09:00:00Z', [['idem-p2', 3, 800]]),
    ];
    const events = [
      { eventId: 'idem-e1', type: 'product_viewed', customerExternalId: 'idem-c1', productExternalId: 'idem-p1', occurredAt: '2026-01-09T09:00:00Z' },
      { eventId: 'idem-e2', type: 'added_to_cart', customerExternalId: 'idem-c1', productExternalId: 'idem-p1', occurredAt: '2026-01-09T09:01:00Z' },
    ];

    expect(await kokyaku.products.upsert(ctx(), products)).toMatchObject({ received: 2, created: 2, updated: 0, unchanged: 0, failed: 0 });
    expect(await kokyaku.customers.upsert(ctx(), customers)).toMatchObject({ received: 2, created: 2, unchanged: 0 });
    expect(await kokyaku.orders.record(ctx(), orders)).toMatchObject({ received: 3, created: 3, unchanged: 0 });
    expect(await kokyaku.events.track(ctx(), events)).toMatchObject({ received: 2, created: 2, unchanged: 0 });

    const before = {
      products: await count('products'),
      customers: await count('customers'),
      orders: await count('orders'),
      lines: await count('order_lines'),
      events: await count('events'),
      customer: await kokyaku.customers.findByExternalId(ctx(), 'idem-c1'),
    };

    expect(await kokyaku.products.upsert(ctx(), products)).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await kokyaku.customers.upsert(ctx(), customers)).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await kokyaku.orders.record(ctx(), orders)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(await kokyaku.events.track(ctx(), events)).toMatchObject({ created: 0, updated: 0, unchanged: 2 });

    expect({
      products: await count('products'),
      customers: await count('customers'),
      orders: await count('orders'),
      lines: await count('order_lines'),
      events: await count('events'),
      customer: await kokyaku.customers.findByExternalId(ctx(), 'idem-c1'),
    }).toEqual(before);
    expect(before.customer!.metrics).toMatchObject({ ordersCount: 2, totalSpent: 2 * 1200 + 800 + 1200 });
  });

  it('counts an id repeated inside one batch once, keeping its last content', async () => {
    const result = await kokyaku.products.upsert(ctx(), [
      { externalId: 'dup-p', name: 'First name' },
      { externalId: 'dup-p', name: 'Second name' },
    ]);
    expect(result).toMatchObject({ received: 2, created: 1, unchanged: 1, failed: 0 });
    expect((await kokyaku.products.findByExternalId(ctx(), 'dup-p'))?.name).toBe('Second name');
  });
});

describe('validation', () => {
  it('stores the valid items of a batch and reports the invalid one by index and field', async () => {
    const result = await kokyaku.customers.upsert(ctx(), [
      { externalId: 'val-c1', email: 'ok@example.jp' },
      { externalId: 'val-c2', email: 'not-an-email' },
      { externalId: 'val-c3', birthday: '1990-02-30' },
      { externalId: 'val-c4', firstName: 'Ken' },
    ]);
    expect(result).toMatchObject({ received: 4, created: 2, failed: 2 });
    expect(result.errors).toEqual([
      { index: 1, field: 'email', externalId: 'val-c2', message: expect.stringContaining('email address') },
      { index: 2, field: 'birthday', externalId: 'val-c3', message: 'Is not a calendar date.' },
    ]);
    expect(await kokyaku.customers.findByExternalId(ctx(), 'val-c1')).not.toBeNull();
    expect(await kokyaku.customers.findByExternalId(ctx(), 'val-c2')).toBeNull();
    expect(await kokyaku.customers.findByExternalId(ctx(), 'val-c4')).not.toBeNull();
  });

  it('names the nested field of a bad order line', async () => {
    const result = await kokyaku.orders.record(ctx(), [
      order('val-o1', 'val-c1', '2026-01-01T00:00:00Z', [['val-p', 1, 500]]),
      order('val-o2', 'val-c1', '2026-01-01T00:00:00Z', [
        ['val-p', 1, 500],
        ['val-p', 0, 500],
      ]),
      { ...order('val-o3', 'val-c1', 'yesterday', [['val-p', 1, 500]]) },
      order('val-o4', 'val-c1', '2026-01-01T00:00:00Z', [['val-p', 1, 10.5]]),
      { ...order('val-o5', 'val-c1', '2026-01-01T00:00:00Z', [['val-p', 1, 500]]), currency: 'USD' },
    ]);
    expect(result).toMatchObject({ received: 5, created: 1, failed: 4 });
    expect(result.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'lines[1].quantity'],
      [2, 'placedAt'],
      [3, 'lines[0].unitPrice'],
      [4, 'currency'],
    ]);
    expect(result.errors[2]!.message).toBe('Has more decimals than JPY allows.');
    expect(await kokyaku.orders.findByExternalId(ctx(), 'val-o1')).not.toBeNull();
    expect(await kokyaku.orders.findByExternalId(ctx(), 'val-o2')).toBeNull();
  });

  it('rejects unknown fields instead of ignoring a typo', async () => {
    const result = await kokyaku.customers.upsert(ctx(), [{ externalId: 'val-typo', emial: 'x@example.jp' } as never]);
    expect(result.errors).toEqual([{ index: 0, field: 'emial', externalId: 'val-typo', message: 'Unknown field "emial".' }]);
  });

  it('refuses a batch over the size limit with a coded error', async () => {
    const huge = Array.from({ length: 10_001 }, (_, i) => ({ eventId: `e${i}`, type: 'x', occurredAt: new Date() }));
    await expect(kokyaku.events.track(ctx(), huge)).rejects.toThrow(KokyakuError);
  });
});

describe('customer upsert semantics', () => {
  it('keeps omitted fields, clears null ones, merges custom fields and normalises', async () => {
    await kokyaku.customers.upsert(ctx(), [
      {
        externalId: 'sem-c1',
        email: '  Hanako.Yamada@Example.JP ',
        phone: '090-1234-5678',
        firstName: 'Hanako',
        lastName: 'Yamada',
        country: 'jp',
        tags: ['vip', ' vip', 'coffee', ''],
        customFields: { skinType: 'dry', size: 'M' },
      },
    ]);
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'sem-c1', lastName: null, customFields: { size: null, plan: 'gold' } }]);
    const customer = await kokyaku.customers.findByExternalId(ctx(), 'sem-c1');
    expect(customer).toMatchObject({
      email: 'hanako.yamada@example.jp',
      phone: '+819012345678',
      firstName: 'Hanako',
      lastName: null,
      country: 'JP',
      tags: ['vip', 'coffee'],
      customFields: { skinType: 'dry', plan: 'gold' },
      placeholder: false,
    });
  });
});

describe('orders and metrics', () => {
  it('creates placeholders for unknown customers and products, filled in later', async () => {
    await kokyaku.orders.record(ctx(), [order('ph-o1', 'ph-c1', '2026-04-01T00:00:00Z', [['ph-p1', 1, 1000]])]);
    expect(await kokyaku.customers.findByExternalId(ctx(), 'ph-c1')).toMatchObject({ placeholder: true, metrics: { ordersCount: 1, totalSpent: 1000 } });
    expect(await kokyaku.products.findByExternalId(ctx(), 'ph-p1')).toMatchObject({ placeholder: true, name: 'ph-p1' });

    expect(await kokyaku.customers.upsert(ctx(), [{ externalId: 'ph-c1', email: 'late@example.jp' }])).toMatchObject({ updated: 1 });
    expect(await kokyaku.products.upsert(ctx(), [{ externalId: 'ph-p1', name: 'Real name' }])).toMatchObject({ updated: 1 });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'ph-c1')).toMatchObject({ placeholder: false, email: 'late@example.jp', metrics: { ordersCount: 1 } });
    expect(await kokyaku.products.findByExternalId(ctx(), 'ph-p1')).toMatchObject({ placeholder: false, name: 'Real name' });
  });

  it('updates the metrics when an order is cancelled, re-lined or moved to another customer', async () => {
    await kokyaku.orders.record(ctx(), [
      order('m-o1', 'm-c1', '2026-01-05T00:00:00Z', [['m-p1', 1, 3000]]),
      order('m-o2', 'm-c1', '2026-02-05T00:00:00Z', [
        ['m-p1', 2, 3000],
        ['m-p2', 1, 500],
      ]),
      order('m-o3', 'm-c1', '2026-03-05T00:00:00Z', [['m-p2', 4, 500]]),
    ]);
    const metrics = async (id: string) => (await kokyaku.customers.findByExternalId(ctx(), id))!.metrics;
    expect(await metrics('m-c1')).toMatchObject({
      ordersCount: 3,
      totalSpent: 3000 + 6500 + 2000,
      averageOrderValue: Math.round(11500 / 3),
      firstOrderAt: new Date('2026-01-05T00:00:00Z'),
      lastOrderAt: new Date('2026-03-05T00:00:00Z'),
    });

    const cancel = await kokyaku.orders.record(ctx(), [order('m-o3', 'm-c1', '2026-03-05T00:00:00Z', [['m-p2', 4, 500]], 'CANCELLED')]);
    expect(cancel).toMatchObject({ updated: 1 });
    expect(await metrics('m-c1')).toMatchObject({ ordersCount: 2, totalSpent: 9500, lastOrderAt: new Date('2026-02-05T00:00:00Z') });
    expect((await kokyaku.orders.findByExternalId(ctx(), 'm-o3'))?.status).toBe('CANCELLED');

    await kokyaku.orders.record(ctx(), [order('m-o1', 'm-c1', '2026-01-05T00:00:00Z', [['m-p1', 1, 2500]])]);
    expect(await metrics('m-c1')).toMatchObject({ ordersCount: 2, totalSpent: 9000 });
    const lines = await kokyaku.orders.linesForOrders(ctx(), [(await kokyaku.orders.findByExternalId(ctx(), 'm-o1'))!.id]);
    expect([...lines.values()][0]).toMatchObject([{ quantity: 1, unitPrice: 2500, position: 0 }]);

    await kokyaku.orders.record(ctx(), [
      order('m-o2', 'm-c2', '2026-02-05T00:00:00Z', [
        ['m-p1', 2, 3000],
        ['m-p2', 1, 500],
      ]),
    ]);
    expect(await metrics('m-c1')).toMatchObject({ ordersCount: 1, totalSpent: 2500 });
    expect(await metrics('m-c2')).toMatchObject({ ordersCount: 1, totalSpent: 6500 });
  });

  it('keeps the 360 figures equal to the sum of the orders, also under concurrent batches', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const orders: OrderInput[] = Array.from({ length: 120 }, (_, i) => {
      const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => [
        `sum-p${Math.floor(random() * 10)}`,
        1 + Math.floor(random() * 3),
        100 * (1 + Math.floor(random() * 50)),
      ]) as [string, number, number][];
      const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
      return order(`sum-o${i}`, `sum-c${i % 7}`, `2026-05-${day}T10:00:00Z`, lines, random() < 0.15 ? 'CANCELLED' : 'PLACED');
    });
    // Four concurrent batches that all touch the same seven customers.
    const chunks = [0, 1, 2, 3].map((k) => orders.filter((_, i) => i % 4 === k));
    const results = await Promise.all(chunks.map((chunk) => kokyaku.orders.record(ctx(), chunk)));
    expect(results.reduce((n, r) => n + r.created, 0)).toBe(120);

    for (let c = 0; c < 7; c++) {
      const mine = orders.filter((o) => o.customerExternalId === `sum-c${c}` && o.status !== 'CANCELLED');
      const totals = mine.map((o) => o.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0));
      const total = totals.reduce((a, b) => a + b, 0);
      const dates = mine.map((o) => new Date(o.placedAt).getTime());
      const customer = await kokyaku.customers.findByExternalId(ctx(), `sum-c${c}`);
      expect(customer!.metrics).toMatchObject({
        ordersCount: mine.length,
        totalSpent: total,
        averageOrderValue: mine.length ? Math.round(total / mine.length) : 0,
        firstOrderAt: mine.length ? new Date(Math.min(...dates)) : null,
        lastOrderAt: mine.length ? new Date(Math.max(...dates)) : null,
      });
    }

    // refresh recomputes the same figures from scratch.
    const before = await kokyaku.customers.findByExternalId(ctx(), 'sum-c3');
    await sql(ctx().em, `update kokyaku.customer_facts set orders_count = 0, total_spent_minor = 0 where tenant_id = 'default'`);
    await kokyaku.refresh();
    const orderFigures = ({ ordersCount, totalSpent, averageOrderValue, firstOrderAt, lastOrderAt, averageDaysBetweenOrders }: NonNullable<typeof before>['metrics']) => ({
      ordersCount,
      totalSpent,
      averageOrderValue,
      firstOrderAt,
      lastOrderAt,
      averageDaysBetweenOrders,
    });
    expect(orderFigures((await kokyaku.customers.findByExternalId(ctx(), 'sum-c3'))!.metrics)).toEqual(orderFigures(before!.metrics));
  });
});

describe('events', () => {
  it('stores an event id once, even when repeated in the batch or sent again', async () => {
    const e = {
      eventId: 'ev-1',
      type: 'product_viewed',
      customerExternalId: 'ev-c1',
      productExternalId: 'ev-p1',
      occurredAt: '2026-06-01T00:00:00Z',
      properties: { source: 'search' },
    };
    expect(await kokyaku.events.track(ctx(), [e, e, { ...e, eventId: 'ev-2' }])).toMatchObject({ received: 3, created: 2, unchanged: 1 });
    expect(await kokyaku.events.track(ctx(), [e])).toMatchObject({ created: 0, unchanged: 1 });
    const [row] = await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.events where event_id in ('ev-1', 'ev-2')`);
    expect(row!.n).toBe(2);
  });
});

describe('tenants', () => {
  it('keeps the same shop ids of two tenants apart', async () => {
    await kokyaku.orders.record(ctx('shop-a'), [order('t-o1', 't-c1', '2026-01-01T00:00:00Z', [['t-p1', 1, 100]])]);
    await kokyaku.orders.record(ctx('shop-b'), [order('t-o1', 't-c1', '2026-01-01T00:00:00Z', [['t-p1', 5, 100]])]);
    expect((await kokyaku.customers.findByExternalId(ctx('shop-a'), 't-c1'))!.metrics.totalSpent).toBe(100);
    expect((await kokyaku.customers.findByExternalId(ctx('shop-b'), 't-c1'))!.metrics.totalSpent).toBe(500);
    expect(await kokyaku.customers.findByExternalId(ctx(), 't-c1')).toBeNull();
    expect(await count('customers', 'shop-a')).toBe(1);
    const page = await kokyaku.customers.list(ctx('shop-b'));
    expect(page.nodes.map((c) => c.externalId)).toEqual(['t-c1']);
  });
});

describe('pagination', () => {
  it('walks every customer once with cursors', async () => {
    await kokyaku.customers.upsert(
      ctx('paging'),
      Array.from({ length: 25 }, (_, i) => ({ externalId: `pg-${i}` })),
    );
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await kokyaku.customers.list(ctx('paging'), { first: 10, after });
      seen.push(...page.nodes.map((c) => c.externalId));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `pg-${i}`));
    await expect(kokyaku.customers.list(ctx('paging'), { after: 'garbage' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(kokyaku.customers.list(ctx('paging'), { first: 100000 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
