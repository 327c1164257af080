import { createServer } from 'node:net';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type MedusaShop, startMedusaShop } from '../src/shop';
import { MedusaClient, adminClient, placeOrder, registerCustomer, seedOrders, shoppers, variantIds } from '../src/store';

/**
 * A real Medusa v2 application (its CLI: db:migrate, exec, user, start) with the Kokyaku plugin;
 * orders are placed through the Store API, edited and canceled through the Admin API, and read
 * back through Kokyaku's GraphQL.
 */
const adminUrl = inject('kokyakuAdminUrl');
let medusaDb = '';
let kokyakuDb = '';
let shop: MedusaShop;
let admin: MedusaClient;
let crm: MedusaClient;
let store: MedusaClient;
let variants: string[] = [];
const alice = { email: 'alice@example.com', first_name: 'Alice', last_name: 'Ueda', password: 'alice-password' };
let aliceStore: MedusaClient;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function start(kokyakuDatabaseUrl: string) {
  shop = await startMedusaShop({ databaseUrl: medusaDb, kokyakuDatabaseUrl, port: await freePort(), env: { KOKYAKU_DELIVERY_MS: '100', KOKYAKU_MAX_BACKOFF_MS: '300' } });
  admin = await adminClient(shop.base);
  crm = new MedusaClient(shop.base, null, admin.token);
  store = new MedusaClient(shop.base, shop.publishableKey);
}

async function until<T>(what: string, check: () => Promise<T | false | null | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sync = () =>
  admin.call<{
    pending: number;
    failing: number;
    lastError: string | null;
    backfill: { status: string; done: Record<string, number>; total: Record<string, number>; refused: number };
  }>('GET', '/admin/kokyaku/sync');
const synced = () => until('the outbox to be delivered', async () => (await sync()).pending === 0);

async function crmData<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const { body } = await crm.request<{ data?: T; errors?: unknown[] }>('POST', '/kokyaku/graphql', { query, variables });
  expect(body.errors).toBeUndefined();
  return body.data!;
}

interface MedusaOrder {
  id: string;
  status: string;
  customer_id: string;
  items: Array<{ id: string; variant_id: string; quantity: number; total: number }>;
}

async function medusaOrders(): Promise<MedusaOrder[]> {
  const { orders } = await admin.call<{ orders: MedusaOrder[] }>('GET', '/admin/orders?limit=1000&fields=id,status,customer_id,total,*items');
  return orders;
}

/** Each customer's orders and spend (items' totals: tax in, discounts out; shipping out) by Medusa's own figures, in cents. */
function expectedFigures(orders: MedusaOrder[]) {
  const out = new Map<string, { ordersCount: number; totalSpent: number }>();
  for (const o of orders) {
    const c = out.get(o.customer_id) ?? { ordersCount: 0, totalSpent: 0 };
    out.set(o.customer_id, c);
    if (o.status === 'canceled') continue;
    c.ordersCount++;
    c.totalSpent += Math.round(o.items.reduce((s, i) => s + Number(i.total), 0) * 100);
  }
  return out;
}

async function kokyakuFigures() {
  const { customers } = await crmData<{ customers: { nodes: Array<{ externalId: string; metrics: { ordersCount: number; totalSpent: number } }> } }>(
    `{ customers(first: 100) { nodes { externalId metrics { ordersCount totalSpent } } } }`,
  );
  return new Map(customers.nodes.map((c) => [c.externalId, { ordersCount: c.metrics.ordersCount, totalSpent: Math.round(c.metrics.totalSpent * 100) }]));
}

async function expectFiguresMatch() {
  const expected = expectedFigures(await medusaOrders());
  const actual = await kokyakuFigures();
  for (const [id, want] of expected) {
    expect(actual.get(id), `customer ${id}`).toBeDefined();
    expect(actual.get(id)!.ordersCount, `orders of ${id}`).toBe(want.ordersCount);
    expect(Math.abs(actual.get(id)!.totalSpent - want.totalSpent), `spend of ${id}`).toBeLessThanOrEqual(2);
  }
}

async function sqlRows<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  medusaDb = await createTestDatabase(adminUrl, `medusa_${Date.now().toString(36)}`);
  kokyakuDb = await createTestDatabase(adminUrl);
  await start(kokyakuDb);
  // The catalogue was made before the server ran (Medusa's exec): the backfill brings it.
  await admin.call('POST', '/admin/kokyaku/backfill', {});
  await until('the first backfill', async () => (await sync()).backfill.status === 'done');
  variants = await variantIds(store);
  aliceStore = await registerCustomer(shop.base, shop.publishableKey, alice);
}, 300_000);

afterAll(async () => {
  await shop?.stop();
  await dropTestDatabase(adminUrl, kokyakuDb).catch(() => undefined);
  await dropTestDatabase(adminUrl, medusaDb).catch(() => undefined);
});

describe('the Medusa plugin against a real Medusa application', () => {
  it("keeps the CRM in step with orders placed through the Store API: every customer's figures equal Medusa's", async () => {
    await seedOrders(shop.base, shop.publishableKey, { customers: 8, orders: 24, concurrency: 4 });
    await placeOrder(aliceStore, alice, [{ variant_id: variants[0]!, quantity: 2 }]);
    await placeOrder(aliceStore, alice, [
      { variant_id: variants[2]!, quantity: 1 },
      { variant_id: variants[5]!, quantity: 1 },
    ]);
    await synced();
    await expectFiguresMatch();
    const [{ products }] = (await sqlRows<{ products: number }>(kokyakuDb, 'select count(*)::int as products from kokyaku.products where not placeholder')) as [
      { products: number },
    ];
    expect(products).toBe(variants.length);
    const [product] = await sqlRows<{ name: string; categories: string[]; price_minor: string }>(
      kokyakuDb,
      `select name, categories, price_minor from kokyaku.products where name = 'Kenya AA 1kg'`,
    );
    expect(product).toEqual({ name: 'Kenya AA 1kg', categories: ['Coffee'], price_minor: '6460' });
  }, 180_000);

  it('follows an order edit and a cancellation made in the Admin API; a canceled order counts for nothing', async () => {
    const orders = await medusaOrders();
    const before = await kokyakuFigures();
    const edited = orders.find((o) => o.items.some((i) => i.quantity >= 2))!;
    const canceled = orders.find((o) => o.customer_id !== edited.customer_id && o.status !== 'canceled')!;

    const item = edited.items.find((i) => i.quantity >= 2)!;
    const { order_change } = await admin.call<{ order_change: { id: string } }>('POST', '/admin/order-edits', { order_id: edited.id });
    await admin.call('POST', `/admin/order-edits/${edited.id}/items/item/${item.id}`, { quantity: item.quantity - 1 });
    await admin.call('POST', `/admin/order-edits/${edited.id}/request`);
    await admin.call('POST', `/admin/order-edits/${edited.id}/confirm`);
    void order_change;
    await admin.call('POST', `/admin/orders/${canceled.id}/cancel`);

    await synced();
    await expectFiguresMatch();
    const after = await kokyakuFigures();
    expect(after.get(canceled.customer_id)!.ordersCount).toBe(before.get(canceled.customer_id)!.ordersCount - 1);
    expect(before.get(edited.customer_id)!.totalSpent - after.get(edited.customer_id)!.totalSpent).toBe(Math.round((Number(item.total) / item.quantity) * 100));
    const [row] = await sqlRows<{ status: string }>(kokyakuDb, `select status from kokyaku.orders where external_id = '${canceled.id}'`);
    expect(row!.status).toBe('CANCELLED');
  });

  it('segments and recommendations see the new orders; views and cart additions arrive as events; consent from the storefront', async () => {
    const expected = [...expectedFigures(await medusaOrders()).values()].filter((f) => f.ordersCount >= 2).length;
    expect((await crmData(`{ segmentPreview(query: "number_of_orders >= 2") { count } }`)).segmentPreview.count).toBe(expected);

    expect((await aliceStore.call('POST', '/store/kokyaku/views', { variant_id: variants[7] })).recorded).toBe(true);
    expect((await store.call('POST', '/store/kokyaku/views', { variant_id: variants[7] })).recorded).toBe(false);
    const { cart } = await aliceStore.call<{ cart: { id: string } }>('POST', '/store/carts', { region_id: (await store.call('GET', '/store/regions')).regions[0].id });
    await aliceStore.call('POST', `/store/carts/${cart.id}/line-items`, { variant_id: variants[9], quantity: 1 });
    await synced();
    const viewers = await crmData(`{ segmentPreview(query: "events MATCHES (type = 'product_viewed', count >= 1)") { customers { email } } }`);
    expect(viewers.segmentPreview.customers.map((c: { email: string }) => c.email)).toEqual([alice.email]);
    const carts = await crmData(`{ segmentPreview(query: "events MATCHES (type = 'added_to_cart', count >= 1)") { customers { email } } }`);
    expect(carts.segmentPreview.customers.map((c: { email: string }) => c.email)).toContain(alice.email);

    const mine = await aliceStore.call<{ recommendations: Array<{ variant_id: string; strategy: string }> }>('GET', '/store/kokyaku/recommendations?limit=5');
    expect(mine.recommendations.length).toBeGreaterThan(0);
    for (const r of mine.recommendations) expect(variants).toContain(r.variant_id);
    const together = await store.call<{ recommendations: Array<{ variant_id: string }> }>('GET', `/store/kokyaku/recommendations?variant_id=${variants[0]}`);
    expect(together.recommendations.length).toBeGreaterThan(0);
    expect(together.recommendations.map((r) => r.variant_id)).not.toContain(variants[0]);
    expect((await store.request('GET', '/store/kokyaku/recommendations?strategy=NOPE')).status).toBe(400);

    await aliceStore.call('POST', '/store/kokyaku/consents', { channel: 'EMAIL', granted: true });
    const { consents } = await aliceStore.call<{ consents: Array<{ channel: string; granted: boolean; source: string }> }>('GET', '/store/kokyaku/consents');
    expect(consents.map(({ channel, granted, source }) => ({ channel, granted, source }))).toEqual([{ channel: 'EMAIL', granted: true, source: 'Medusa storefront' }]);
    expect((await store.request('GET', '/store/kokyaku/consents')).status).toBe(401);
  });

  it("maps a Medusa user's kokyaku_roles to Kokyaku roles; a user with none is refused with a coded error", async () => {
    const { user } = await admin.call<{ user: { id: string } }>('GET', '/admin/users/me');
    const roles = async (value: string | null) => admin.call('POST', `/admin/users/${user.id}`, { metadata: { kokyaku_roles: value } });
    try {
      await roles('SUPPORT');
      const viewer = await crm.request<{ data?: { viewer: { roles: string[] } } }>('POST', '/kokyaku/graphql', { query: '{ viewer { roles } }' });
      expect(viewer.body.data?.viewer.roles).toEqual(['SUPPORT']);
      const segment = await crm.request<{ errors?: Array<{ extensions?: { code?: string } }> }>('POST', '/kokyaku/graphql', {
        query: 'mutation { createSegment(name: "x", query: "number_of_orders >= 1") { id } }',
      });
      expect(segment.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await admin.request('POST', '/admin/kokyaku/backfill', {})).status).toBe(403);

      // Any value that names no role (Medusa drops empty metadata values).
      await roles('NONE');
      const refused = await crm.request<{ errors?: Array<{ extensions?: { code?: string } }> }>('POST', '/kokyaku/graphql', { query: '{ customers(first: 1) { totalCount } }' });
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const sync = await admin.request<{ code?: string }>('GET', '/admin/kokyaku/sync');
      expect(sync.status).toBe(403);
      expect(sync.body.code).toBe('FORBIDDEN');
    } finally {
      await roles('ADMIN');
    }
    const anonymous = await new MedusaClient(shop.base).request<{ errors?: Array<{ extensions?: { code?: string } }> }>('POST', '/kokyaku/graphql', {
      query: '{ customers(first: 1) { totalCount } }',
    });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // A customer's token is no admin's.
    const asCustomer = await new MedusaClient(shop.base, null, aliceStore.token).request<{ errors?: Array<{ extensions?: { code?: string } }> }>('POST', '/kokyaku/graphql', {
      query: '{ customers(first: 1) { totalCount } }',
    });
    expect(asCustomer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const link = await fetch(`${shop.base}/admin/kokyaku/console`, { headers: { authorization: `Bearer ${admin.token}` }, redirect: 'manual' });
    expect([link.status, link.headers.get('location')]).toEqual([302, '/kokyaku/console/']);
    const page = await fetch(`${shop.base}/kokyaku/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('loses and duplicates nothing while Kokyaku is down: the outbox keeps every change and delivers it once Kokyaku is back', async () => {
    const name = new URL(kokyakuDb).pathname.slice(1);
    const server = new pg.Client({ connectionString: adminUrl });
    await server.connect();
    try {
      await server.query(`alter database "${name}" allow_connections false`);
      await server.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
      for (const [i, who] of shoppers(3, 'outage').entries())
        await placeOrder(new MedusaClient(shop.base, shop.publishableKey), who, [{ variant_id: variants[i]!, quantity: 1 + i }]);
      const failing = await until('a failed delivery', async () => {
        const s = await sync();
        return s.failing > 0 ? s : null;
      });
      expect(failing.pending).toBeGreaterThan(0);
      expect(failing.lastError).toBeTruthy();
    } finally {
      await server.query(`alter database "${name}" allow_connections true`);
      await server.end();
    }
    await synced();
    await expectFiguresMatch();
    const [{ orders }] = (await sqlRows<{ orders: number }>(kokyakuDb, 'select count(*)::int as orders from kokyaku.orders')) as [{ orders: number }];
    expect(orders).toBe((await medusaOrders()).length);
  });

  it('backfills the whole history into an empty Kokyaku, resumable after a pause, with the same figures as live sync', async () => {
    const live = await kokyakuFigures();
    const liveProducts = await sqlRows(kokyakuDb, 'select external_id, name, price_minor, categories, in_stock from kokyaku.products order by external_id');
    await shop.stop();
    const empty = await createTestDatabase(adminUrl);
    try {
      await start(empty);
      const started = await admin.call<{ backfill: { status: string } }>('POST', '/admin/kokyaku/backfill', { restart: true, batch_size: 2 });
      expect(started.backfill.status).toBe('running');
      const paused = await admin.call<{ backfill: { status: string; done: Record<string, number>; total: Record<string, number> } }>('POST', '/admin/kokyaku/backfill', {
        pause: true,
      });
      if (paused.backfill.status === 'paused') {
        // Paused mid-way: resuming continues after the last batch, not from the start.
        expect(paused.backfill.done.orders!).toBeLessThan(paused.backfill.total.orders!);
        expect((await admin.call<{ backfill: { status: string } }>('POST', '/admin/kokyaku/backfill', {})).backfill.status).toBe('running');
      }
      const done = await until('the backfill to finish', async () => {
        const { backfill } = await sync();
        return backfill.status === 'done' ? backfill : null;
      });
      expect(done.done).toEqual(done.total);
      expect(done.refused).toBe(0);
      crm = new MedusaClient(shop.base, null, admin.token);
      const backfilled = await kokyakuFigures();
      for (const [id, figures] of live) expect(backfilled.get(id), `customer ${id}`).toEqual(figures);
      expect(await sqlRows(empty, 'select external_id, name, price_minor, categories, in_stock from kokyaku.products order by external_id')).toEqual(liveProducts);
      const [{ orders }] = (await sqlRows<{ orders: number }>(empty, 'select count(*)::int as orders from kokyaku.orders')) as [{ orders: number }];
      expect(orders).toBe((await medusaOrders()).length);
    } finally {
      await shop.stop();
      await dropTestDatabase(adminUrl, empty).catch(() => undefined);
      await start(kokyakuDb);
    }
  }, 400_000);
});
