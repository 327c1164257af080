import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect as playwrightExpect } from '@playwright/test';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import { KokyakuBackfill, type KokyakuPluginOptions, KokyakuService } from '@kokyaku/vendure';
import { DefaultLogger, JobQueueService, LogLevel, bootstrap } from '@vendure/core';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { VendureClient, adminClient } from '../src/client.js';
import { shopConfig } from '../src/config.js';
import { placeOrder, populateShop, register, seedOrders, shoppers, variantIds } from '../src/seed.js';

/**
 * A real Vendure 3 server (bootstrap, PostgreSQL, the Shop and Admin APIs over HTTP) with the
 * Kokyaku plugin; orders are placed, modified, refunded and cancelled through Vendure's APIs and
 * read back through Kokyaku's GraphQL.
 */
type App = Awaited<ReturnType<typeof bootstrap>>;
const pwExpect = playwrightExpect.configure({ timeout: 20_000 });
const SHOTS = path.resolve(import.meta.dirname, '..', '..', '..', 'test-results', 'vendure');

const adminUrl = inject('kokyakuAdminUrl');
let vendureDb = '';
let kokyakuDb = '';
let app: App;
let base = '';
let admin: VendureClient;
let crm: VendureClient;
let variants: string[] = [];
const alice = { email: 'alice@example.com', firstName: 'Alice', lastName: 'Ueda', password: 'alice-password' };
let aliceShop: VendureClient;
/** Customers deleted in Vendure: erased in Kokyaku, their orders no longer anyone's. */
const deletedCustomers = new Set<string>();

async function start(kokyaku: KokyakuPluginOptions): Promise<void> {
  const config = shopConfig({ databaseUrl: vendureDb, port: 0, kokyaku: { delivery: { intervalMs: 100, maxBackoffMs: 300 }, ...kokyaku } });
  config.logger = new DefaultLogger({ level: LogLevel.Error });
  app = await bootstrap(config);
  await app.get(JobQueueService).start();
  base = `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}`;
  admin = await adminClient(base);
  crm = new VendureClient(`${base}/kokyaku/graphql`, admin.token);
}

/** Wait for a condition (never for a guess of time). */
async function until<T>(what: string, check: () => Promise<T | false | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sync() {
  return (await admin.query<{ kokyakuSync: { pending: number; failing: number; lastError: string | null } }>(`{ kokyakuSync { pending failing lastError } }`)).kokyakuSync;
}

const synced = () => until('the outbox to be delivered', async () => (await sync()).pending === 0);

async function crmData<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await crm.request<T>(query, variables);
  expect(body.errors).toBeUndefined();
  return body.data!;
}

interface VendureOrder {
  id: string;
  state: string;
  customer: { id: string } | null;
  orderPlacedAt: string | null;
  subTotalWithTax: number;
  shippingWithTax: number;
  lines: Array<{ id: string; quantity: number; proratedUnitPriceWithTax: number; productVariant: { id: string } }>;
  payments: Array<{ id: string; amount: number; state: string; refunds: Array<{ total: number; state: string }> }>;
}

async function vendureOrders(): Promise<VendureOrder[]> {
  const { orders } = await admin.query<{ orders: { items: VendureOrder[] } }>(
    `{ orders(options: { take: 1000, sort: { id: ASC } }) { items { id state orderPlacedAt subTotalWithTax shippingWithTax customer { id }
        lines { id quantity proratedUnitPriceWithTax productVariant { id } } payments { id amount state refunds { total state } } } } }`,
  );
  return orders.items.filter((o) => o.orderPlacedAt && !deletedCustomers.has(o.customer!.id));
}

/** What each customer bought, by Vendure's own figures: lines at what was paid, net of refunds. */
function expectedFigures(orders: VendureOrder[]): Map<string, { ordersCount: number; totalSpent: number }> {
  const out = new Map<string, { ordersCount: number; totalSpent: number }>();
  for (const o of orders) {
    const c = out.get(o.customer!.id) ?? { ordersCount: 0, totalSpent: 0 };
    out.set(o.customer!.id, c);
    if (o.state === 'Cancelled') continue;
    const goods = o.lines.reduce((s, l) => s + l.quantity * l.proratedUnitPriceWithTax, 0);
    const refunded = o.payments
      .flatMap((p) => p.refunds)
      .filter((r) => r.state === 'Settled')
      .reduce((s, r) => s + r.total, 0);
    const paid = o.payments.filter((p) => p.state === 'Settled').reduce((s, p) => s + p.amount, 0);
    c.ordersCount++;
    c.totalSpent += refunded > 0 ? Math.min(goods, paid - refunded - o.shippingWithTax) : goods;
  }
  return out;
}

async function kokyakuFigures(): Promise<Map<string, { ordersCount: number; totalSpent: number }>> {
  const { customers } = await crmData<{ customers: { nodes: Array<{ externalId: string; metrics: { ordersCount: number; totalSpent: number } }> } }>(
    `{ customers(first: 100) { nodes { externalId metrics { ordersCount totalSpent } } } }`,
  );
  return new Map(customers.nodes.map((c) => [c.externalId, { ordersCount: c.metrics.ordersCount, totalSpent: Math.round(c.metrics.totalSpent * 100) }]));
}

/** Kokyaku's figures for every customer who ordered equal Vendure's (a refunded order within a cent per line). */
async function expectFiguresMatch(): Promise<void> {
  const expected = expectedFigures(await vendureOrders());
  const actual = await kokyakuFigures();
  for (const [id, want] of expected) {
    const got = actual.get(id);
    expect(got, `customer ${id}`).toBeDefined();
    expect(got!.ordersCount, `orders of customer ${id}`).toBe(want.ordersCount);
    expect(Math.abs(got!.totalSpent - want.totalSpent), `spend of customer ${id}: ${got!.totalSpent} vs ${want.totalSpent}`).toBeLessThanOrEqual(3);
  }
}

async function kokyakuSql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  process.env.VENDURE_DISABLE_TELEMETRY = 'true';
  vendureDb = await createTestDatabase(adminUrl, `vendure_${Date.now().toString(36)}`);
  kokyakuDb = await createTestDatabase(adminUrl);
  await start({ database: kokyakuDb });
  await populateShop(app);
  variants = await variantIds(`${base}/shop-api`);
  aliceShop = await register(`${base}/shop-api`, alice);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await dropTestDatabase(adminUrl, kokyakuDb).catch(() => undefined);
  await dropTestDatabase(adminUrl, vendureDb).catch(() => undefined);
});

describe('the Vendure plugin against a real Vendure server', () => {
  it("keeps the CRM in step with orders placed through the Shop API: every customer's figures equal Vendure's", async () => {
    await seedOrders(`${base}/shop-api`, { customers: 12, orders: 36, concurrency: 4 });
    await placeOrder(`${base}/shop-api`, alice, [{ variantId: variants[0]!, quantity: 2 }], aliceShop);
    await placeOrder(
      `${base}/shop-api`,
      alice,
      [
        { variantId: variants[2]!, quantity: 1 },
        { variantId: variants[5]!, quantity: 1 },
      ],
      aliceShop,
    );
    await synced();
    await expectFiguresMatch();
    const { products } = await kokyakuSql<{ products: number }>(kokyakuDb, 'select count(*)::int as products from kokyaku.products where not placeholder').then((r) => r[0]!);
    expect(products).toBe(variants.length);
    const { customer } = await crmData(`{ customer(externalId: "1") { email } }`);
    expect(customer.email).toMatch(/@example\.com$/);
  });

  it('follows modifications, refunds and cancellations made in the Admin API; a cancelled order counts for nothing', async () => {
    const orders = await vendureOrders();
    // Three orders of three different customers, each with a line of two or more.
    const picked: VendureOrder[] = [];
    for (const o of orders) if (o.lines.some((l) => l.quantity >= 2) && !picked.some((p) => p.customer!.id === o.customer!.id)) picked.push(o);
    const [modified, refunded, cancelled] = picked as [VendureOrder, VendureOrder, VendureOrder];
    expect(cancelled).toBeDefined();
    const before = await kokyakuFigures();

    // Modify: one unit less of a line, the difference refunded.
    const line = modified.lines.find((l) => l.quantity >= 2)!;
    await admin.query(`mutation ($id: ID!) { transitionOrderToState(id: $id, state: "Modifying") { ... on Order { state } ... on ErrorResult { message } } }`, { id: modified.id });
    const { modifyOrder } = await admin.query<{ modifyOrder: { state?: string; message?: string } }>(
      `mutation ($i: ModifyOrderInput!) { modifyOrder(input: $i) { ... on Order { state } ... on ErrorResult { message } } }`,
      {
        i: {
          dryRun: false,
          orderId: modified.id,
          adjustOrderLines: [{ orderLineId: line.id, quantity: line.quantity - 1 }],
          refunds: [{ paymentId: modified.payments[0]!.id, amount: line.proratedUnitPriceWithTax, reason: 'one less' }],
        },
      },
    );
    expect(modifyOrder.message).toBeUndefined();
    const back = await admin.query<{ transitionOrderToState: { state?: string; message?: string } }>(
      `mutation ($id: ID!) { transitionOrderToState(id: $id, state: "PaymentSettled") { ... on Order { state } ... on ErrorResult { message } } }`,
      { id: modified.id },
    );
    expect(back.transitionOrderToState.state).toBe('PaymentSettled');
    await settleRefunds();

    // Refund money without touching the lines (a goodwill refund of 5.00).
    const { refundOrder } = await admin.query<{ refundOrder: { id?: string; state?: string; message?: string } }>(
      `mutation ($i: RefundOrderInput!) { refundOrder(input: $i) { ... on Refund { id state } ... on ErrorResult { message } } }`,
      { i: { paymentId: refunded.payments[0]!.id, amount: 500, shipping: 0, adjustment: 0, reason: 'goodwill' } },
    );
    expect(refundOrder.message).toBeUndefined();
    await settleRefunds();

    // Cancel a whole order.
    const { cancelOrder } = await admin.query<{ cancelOrder: { state?: string; message?: string } }>(
      `mutation ($i: CancelOrderInput!) { cancelOrder(input: $i) { ... on Order { state } ... on ErrorResult { message } } }`,
      { i: { orderId: cancelled.id, reason: 'customer asked', cancelShipping: true } },
    );
    expect(cancelOrder.state).toBe('Cancelled');

    await synced();
    await expectFiguresMatch();
    const after = await kokyakuFigures();
    const c = cancelled.customer!.id;
    expect(after.get(c)!.ordersCount).toBe(before.get(c)!.ordersCount - 1);
    const m = modified.customer!.id;
    expect(before.get(m)!.totalSpent - after.get(m)!.totalSpent).toBe(line.proratedUnitPriceWithTax);
    const [status] = await kokyakuSql<{ status: string }>(kokyakuDb, `select status from kokyaku.orders where external_id = '${Number(cancelled.id)}'`);
    expect(status!.status).toBe('CANCELLED');
    const r = refunded.customer!.id;
    expect(Math.abs(before.get(r)!.totalSpent - after.get(r)!.totalSpent - 500)).toBeLessThanOrEqual(3);
  });

  it('segments and recommendations see the new orders; storefront views and cart additions arrive as events', async () => {
    const { segmentPreview } = await crmData(`{ segmentPreview(query: "number_of_orders >= 2") { count } }`);
    const expected = [...expectedFigures(await vendureOrders()).values()].filter((f) => f.ordersCount >= 2).length;
    expect(segmentPreview.count).toBe(expected);

    const viewed = variants[7]!;
    const { kokyakuTrackProductView } = await aliceShop.query<{ kokyakuTrackProductView: boolean }>(`mutation ($v: ID!) { kokyakuTrackProductView(productVariantId: $v) }`, {
      v: viewed,
    });
    expect(kokyakuTrackProductView).toBe(true);
    // A guest's view is not attributed to anyone.
    const guest = new VendureClient(`${base}/shop-api`);
    expect(
      (await guest.query<{ kokyakuTrackProductView: boolean }>(`mutation ($v: ID!) { kokyakuTrackProductView(productVariantId: $v) }`, { v: viewed })).kokyakuTrackProductView,
    ).toBe(false);
    // A cart addition by a signed-in customer (the order stays a cart).
    await aliceShop.query(`mutation ($v: ID!) { addItemToOrder(productVariantId: $v, quantity: 1) { ... on Order { id } } }`, { v: variants[9]! });
    await synced();
    const viewers = await crmData(`{ segmentPreview(query: "events MATCHES (type = 'product_viewed', count >= 1)") { count customers { email } } }`);
    expect(viewers.segmentPreview.customers.map((c: { email: string }) => c.email)).toEqual([alice.email]);
    const carts = await crmData(`{ segmentPreview(query: "events MATCHES (type = 'added_to_cart', count >= 1)") { count customers { email } } }`);
    expect(carts.segmentPreview.customers.map((c: { email: string }) => c.email)).toContain(alice.email);

    const { kokyakuRecommendations } = await aliceShop.query<{
      kokyakuRecommendations: Array<{ productVariantId: string; strategy: string; productVariant: { id: string; name: string } | null }>;
    }>(`{ kokyakuRecommendations(take: 5) { productVariantId strategy productVariant { id name } } }`);
    expect(kokyakuRecommendations.length).toBeGreaterThan(0);
    for (const r of kokyakuRecommendations) {
      expect(variants).toContain(r.productVariantId);
      expect(r.productVariant?.id).toBe(r.productVariantId);
    }
    const together = await guest.query<{ kokyakuRecommendations: Array<{ productVariantId: string }> }>(
      `query ($v: ID) { kokyakuRecommendations(productVariantId: $v) { productVariantId } }`,
      { v: variants[0]! },
    );
    expect(together.kokyakuRecommendations.length).toBeGreaterThan(0);
    expect(together.kokyakuRecommendations.map((r) => r.productVariantId)).not.toContain(variants[0]!);

    const consent = await aliceShop.query<{ kokyakuSetConsent: { channel: string; granted: boolean } }>(
      `mutation { kokyakuSetConsent(channel: EMAIL, granted: true) { channel granted } }`,
    );
    expect(consent.kokyakuSetConsent).toEqual({ channel: 'EMAIL', granted: true });
    const { kokyakuConsents } = await aliceShop.query<{ kokyakuConsents: Array<{ channel: string; granted: boolean; source: string }> }>(
      `{ kokyakuConsents { channel granted source } }`,
    );
    expect(kokyakuConsents).toEqual([{ channel: 'EMAIL', granted: true, source: 'Vendure storefront' }]);
  });

  it('maps Vendure permissions to Kokyaku roles; an administrator without one is refused with a coded error', async () => {
    const role = async (code: string, permissions: string[]) =>
      (await admin.query<{ createRole: { id: string } }>(`mutation ($i: CreateRoleInput!) { createRole(input: $i) { id } }`, { i: { code, description: code, permissions } }))
        .createRole.id;
    const person = async (email: string, roleId: string) => {
      await admin.query(`mutation ($i: CreateAdministratorInput!) { createAdministrator(input: $i) { id } }`, {
        i: { firstName: 'Staff', lastName: email, emailAddress: email, password: 'staff-password', roleIds: [roleId] },
      });
      const client = await adminClient(base, email, 'staff-password');
      return { vendure: client, crm: new VendureClient(`${base}/kokyaku/graphql`, client.token) };
    };
    const catalogue = await person('catalogue@example.com', await role('catalogue', ['ReadCatalog']));
    const support = await person('support@example.com', await role('crm-support', ['KokyakuSupport']));

    const refused = await catalogue.crm.request(`{ customers(first: 1) { totalCount } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const refusedSync = await catalogue.vendure.request(`{ kokyakuSync { pending } }`);
    expect(refusedSync.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await new VendureClient(`${base}/kokyaku/graphql`).request(`{ customers(first: 1) { totalCount } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const viewer = await support.crm.request<{ viewer: { roles: string[] } }>(`{ viewer { roles } }`);
    expect(viewer.data?.viewer.roles).toContain('SUPPORT');
    expect(viewer.data?.viewer.roles).not.toContain('ADMIN');
    const read = await support.crm.request(`{ customers(first: 1) { totalCount } }`);
    expect(read.errors).toBeUndefined();
    const segment = await support.crm.request(`mutation { createSegment(name: "x", query: "number_of_orders >= 1") { id } }`);
    expect(segment.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const backfill = await support.vendure.request(`mutation { startKokyakuBackfill { status } }`);
    expect(backfill.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await support.vendure.query<{ kokyakuSync: { pending: number } }>(`{ kokyakuSync { pending } }`)).kokyakuSync.pending).toBeGreaterThanOrEqual(0);

    // The staff console is served beside the API.
    const page = await fetch(`${base}/kokyaku/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it("serves the staff console to a browser signed in to Vendure's admin (Vendure's session cookie), which finds a customer", { timeout: 120_000 }, async () => {
    await mkdir(SHOTS, { recursive: true });
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // Signing in to Vendure's Admin API in this browser sets Vendure's session cookie; no token is typed.
      const login = await page.request.post(`${base}/admin-api`, { data: { query: 'mutation { login(username: "superadmin", password: "superadmin") { __typename } }' } });
      expect((await login.json()).data.login.__typename).toBe('CurrentUser');
      await page.goto(`${base}/kokyaku/console/`);
      await pwExpect(page.getByRole('heading', { name: 'Find a customer' })).toBeVisible();
      await page.getByRole('combobox', { name: /Name, kana, email, phone/ }).fill('Ueda');
      const option = page.getByRole('listbox', { name: 'Results' }).getByRole('option').first();
      await pwExpect(option).toContainText('Alice');
      await option.click();
      await pwExpect(page.getByRole('heading', { level: 1 })).toHaveText('Alice Ueda');
      await pwExpect(page.getByText(alice.email).first()).toBeVisible();
      await page.screenshot({ path: path.join(SHOTS, 'console-profile.png'), fullPage: true });
      expect(errors).toEqual([]);
      // Without Vendure's cookie the console asks to sign in.
      const stranger = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
      const other = await stranger.newPage();
      await other.goto(`${base}/kokyaku/console/`);
      await pwExpect(other.getByRole('heading', { name: /Sign in/ })).toBeVisible();
    } finally {
      await browser.close();
    }
  });

  it('loses and duplicates nothing while Kokyaku is down: the outbox keeps every change and delivers it once Kokyaku is back', async () => {
    const name = new URL(kokyakuDb).pathname.slice(1);
    const ordersBefore = (await vendureOrders()).length;
    const cartsSql = `select count(*)::int as carts from kokyaku.events where type = 'added_to_cart'`;
    const [{ carts: cartsBefore }] = (await kokyakuSql<{ carts: number }>(kokyakuDb, cartsSql)) as [{ carts: number }];
    const admin_ = new pg.Client({ connectionString: adminUrl });
    await admin_.connect();
    try {
      await admin_.query(`alter database "${name}" allow_connections false`);
      await admin_.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
      const people = shoppers(3, 'outage');
      for (const [i, who] of people.entries()) await placeOrder(`${base}/shop-api`, who, [{ variantId: variants[i]!, quantity: 1 + i }]);
      await aliceShop.query(`mutation ($v: ID!) { addItemToOrder(productVariantId: $v, quantity: 1) { ... on Order { id } } }`, { v: variants[3]! });
      const failing = await until('a failed delivery', async () => {
        const s = await sync();
        return s.failing > 0 ? s : null;
      });
      expect(failing.pending).toBeGreaterThan(0);
      expect(failing.lastError).toBeTruthy();
    } finally {
      await admin_.query(`alter database "${name}" allow_connections true`);
      await admin_.end();
    }
    await synced();
    await expectFiguresMatch();
    const placed = await vendureOrders();
    expect(placed.length).toBe(ordersBefore + 3);
    const [{ orders }] = (await kokyakuSql<{ orders: number }>(kokyakuDb, 'select count(*)::int as orders from kokyaku.orders')) as [{ orders: number }];
    expect(orders).toBe(placed.length);
    const [{ carts }] = (await kokyakuSql<{ carts: number }>(kokyakuDb, cartsSql)) as [{ carts: number }];
    const [{ outbox }] = (await kokyakuSql<{ outbox: number }>(vendureDb, 'select count(*)::int as outbox from kokyaku_outbox')) as [{ outbox: number }];
    expect(outbox).toBe(0);
    // Alice's cart addition during the outage, once.
    expect(carts).toBe(cartsBefore + 1);
  });

  it("follows the catalogue and the customer list: a new price, a customer's new name, a customer deleted in Vendure is erased", async () => {
    const variant = variants[4]!;
    await admin.query(`mutation ($i: [UpdateProductVariantInput!]!) { updateProductVariants(input: $i) { id } }`, { i: [{ id: variant, price: 2000 }] });
    const { customers } = await admin.query<{ customers: { items: Array<{ id: string; emailAddress: string }> } }>(
      `{ customers(options: { take: 2, sort: { id: ASC } }) { items { id emailAddress } } }`,
    );
    const { customers: more } = await admin.query<{ customers: { items: Array<{ id: string }> } }>(
      `{ customers(options: { take: 1, skip: 5, sort: { id: ASC } }) { items { id } } }`,
    );
    const [renamed, deleted] = customers.items as [{ id: string; emailAddress: string }, { id: string; emailAddress: string }];
    // Vendure takes any text as a phone number: Kokyaku stores that customer without it.
    const scribbled = more.items[0]!.id;
    await admin.query(`mutation ($i: UpdateCustomerInput!) { updateCustomer(input: $i) { ... on Customer { id } } }`, {
      i: { id: scribbled, lastName: 'Scribbled', phoneNumber: 'call me after 6' },
    });
    await admin.query(`mutation ($i: UpdateCustomerInput!) { updateCustomer(input: $i) { ... on Customer { id } } }`, {
      i: { id: renamed.id, firstName: 'Renamed', phoneNumber: '+81 90-1234-5678' },
    });
    const erasedBefore = (await kokyakuSql<{ n: number }>(kokyakuDb, 'select count(*)::int as n from kokyaku.customers where erased_at is not null'))[0]!.n;
    await admin.query(`mutation ($id: ID!) { deleteCustomer(id: $id) { result } }`, { id: deleted.id });
    deletedCustomers.add(deleted.id);
    await synced();

    const [product] = await kokyakuSql<{ price_minor: string }>(kokyakuDb, `select price_minor from kokyaku.products where external_id = '${Number(variant)}'`);
    expect(Number(product!.price_minor)).toBe(2200); // 20.00 + 10% tax: what the customer pays
    const { customer } = await crmData(`query ($id: String!) { customer(externalId: $id) { firstName phone } }`, { id: renamed.id });
    expect(customer).toEqual({ firstName: 'Renamed', phone: '+819012345678' });
    const withoutPhone = await crmData(`query ($id: String!) { customer(externalId: $id) { lastName phone } }`, { id: scribbled });
    expect(withoutPhone.customer).toEqual({ lastName: 'Scribbled', phone: null });
    expect((await sync()).failing).toBe(0);
    // Erased: no longer found by the shop's id, personal data gone.
    expect((await crmData(`query ($id: String!) { customer(externalId: $id) { id } }`, { id: deleted.id })).customer).toBeNull();
    const erased = await kokyakuSql<{ email: string | null }>(kokyakuDb, 'select email from kokyaku.customers where erased_at is not null');
    expect(erased.length).toBe(erasedBefore + 1);
    expect(erased.every((c) => c.email === null)).toBe(true);
    expect(JSON.stringify(await kokyakuSql(kokyakuDb, 'select * from kokyaku.customers'))).not.toContain(deleted.emailAddress);
  });

  it('backfills the whole history into an empty Kokyaku, resumable after a pause, with the same figures as live sync', async () => {
    const live = await kokyakuFigures();
    const liveProducts = await kokyakuSql(kokyakuDb, 'select external_id, name, price_minor, categories, in_stock from kokyaku.products order by external_id');
    await app.close();
    const empty = await createTestDatabase(adminUrl);
    try {
      await start({ database: empty });
      const backfill = app.get(KokyakuBackfill);
      let paused = false;
      await backfill.start({
        restart: true,
        batchSize: 4,
        onProgress: (s) => {
          if (!paused && s.done.customers >= 8) {
            paused = true;
            void backfill.pause();
          }
        },
      });
      const halfway = await backfill.wait();
      expect(halfway.status).toBe('paused');
      expect(halfway.done.customers).toBeLessThan(halfway.total.customers);

      // Resume through the Admin API, as an operator would; progress is readable meanwhile.
      const started = await admin.query<{ startKokyakuBackfill: { status: string } }>(`mutation { startKokyakuBackfill { status } }`);
      expect(started.startKokyakuBackfill.status).toBe('running');
      const done = await until('the backfill to finish', async () => {
        const { kokyakuSync } = await admin.query<{ kokyakuSync: { backfill: { status: string; done: Record<string, number>; total: Record<string, number>; refused: number } } }>(
          `{ kokyakuSync { backfill { status done { customers products orders } total { customers products orders } refused } } }`,
        );
        return kokyakuSync.backfill.status === 'done' ? kokyakuSync.backfill : null;
      });
      expect(done.done).toEqual(done.total);
      expect(done.refused).toBe(0);
      expect(done.total.orders).toBe((await vendureOrders()).length);

      crm = new VendureClient(`${base}/kokyaku/graphql`, admin.token);
      const backfilled = await kokyakuFigures();
      for (const [id, figures] of live) if (!id.startsWith('erased:')) expect(backfilled.get(id), `customer ${id}`).toEqual(figures);
      await expectFiguresMatch();
      const products = await kokyakuSql(empty, 'select external_id, name, price_minor, categories, in_stock from kokyaku.products order by external_id');
      expect(products).toEqual(liveProducts);
      const [{ orders }] = (await kokyakuSql<{ orders: number }>(empty, 'select count(*)::int as orders from kokyaku.orders')) as [{ orders: number }];
      expect(orders).toBe(done.total.orders);
    } finally {
      await app.close();
      await dropTestDatabase(adminUrl, empty).catch(() => undefined);
      await start({ database: kokyakuDb });
    }
    void KokyakuService;
  });
});

async function settleRefunds(): Promise<void> {
  const { orders } = await admin.query<{ orders: { items: Array<{ payments: Array<{ refunds: Array<{ id: string; state: string }> }> }> } }>(
    `{ orders(options: { take: 1000 }) { items { payments { refunds { id state } } } } }`,
  );
  for (const refund of orders.items.flatMap((o) => o.payments.flatMap((p) => p.refunds)).filter((r) => r.state === 'Pending')) {
    await admin.query(`mutation ($i: SettleRefundInput!) { settleRefund(input: $i) { ... on Refund { state } ... on ErrorResult { message } } }`, {
      i: { id: refund.id, transactionId: `t-${refund.id}` },
    });
  }
}
