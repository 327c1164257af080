import type { AddressInfo } from 'node:net';
import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import pg from 'pg';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loyaltyPlugin } from '@kokyaku/example-plugin-loyalty';
import { createShopApp } from '../src/app.js';
import { MailFolder } from '../src/mail-folder.js';
import { seedDemoShop } from '../src/seed.js';
import { migrateShop } from '../src/shop-db.js';

let kokyaku: Kokyaku;
let pool: pg.Pool;
let base = '';
let close: () => Promise<void>;
let mailDir = '';
const staff = { authorization: 'Bearer staff-token' };

async function crm(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/crm/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...staff },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

async function get(path: string) {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  mailDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-mail-'));
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
    shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    plugins: [loyaltyPlugin()],
    messaging: { adapters: { EMAIL: new MailFolder(mailDir, 'shop@localhost') } },
  });
  pool = new pg.Pool({ connectionString: kokyaku.databaseUrl });
  await migrateShop(pool);
  expect(await seedDemoShop(pool, kokyaku, { customers: 150, seed: 7, now: new Date('2026-11-01T00:00:00Z') })).toBe(true);
  const shop = await createShopApp({ kokyaku, pool, staffToken: 'staff-token', log: () => undefined, explorerToken: true });
  const server = shop.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await shop.stop();
    await pool.end();
    await kokyaku.close();
  };
});
afterAll(() => close?.());

describe('example shop with the CRM mounted', () => {
  it('seeds once, and the CRM figures equal the shop own orders', async () => {
    expect(await seedDemoShop(pool, kokyaku, { customers: 150 })).toBe(false);
    const shop = await pool.query<{ customer_id: string; n: number; total: string }>(
      `select customer_id, count(*)::int as n, sum(total)::text as total from shop.orders where status = 'PLACED' group by customer_id`,
    );
    expect(shop.rows.length).toBeGreaterThan(100);
    const crmCustomers = new Map<string, { ordersCount: number; totalSpent: number }>();
    let after: string | null = null;
    do {
      const page: any = (
        await crm(`query($after: String) { customers(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { externalId metrics { ordersCount totalSpent } } } }`, {
          after,
        })
      ).customers;
      for (const node of page.nodes) crmCustomers.set(node.externalId, node.metrics);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(crmCustomers.size).toBe(150);
    for (const row of shop.rows) {
      expect(crmCustomers.get(row.customer_id), row.customer_id).toEqual({ ordersCount: row.n, totalSpent: Number(row.total) });
    }
  });

  it('comes with CRM records to explore: a company tree with rolled-up revenue, a pipeline, tasks, an inquiry, lead scores', async () => {
    const data: any = await crm(`{
      companies(roots: true) { nodes { name revenue { companies contacts } subtree { depth company { name } } } }
      pipelines { name stages { name probability } }
      deals { nodes { title outcome } }
      tasks(overdue: true) { nodes { title } }
      inquiries(kind: COMPLAINT) { nodes { subject status firstResponseMinutes } }
      scoringRules { name plugin }
      segments { nodes { name count } }
    }`);
    expect(data.companies.nodes).toEqual([expect.objectContaining({ name: 'Kissa Holdings', revenue: { companies: 5, contacts: 4 } })]);
    expect(data.companies.nodes[0].subtree.map((n: any) => n.depth)).toEqual([0, 1, 2, 2, 1]);
    expect(data.pipelines[0].stages.map((s: any) => s.name)).toEqual(['Lead', 'Tasting', 'Proposal', 'Won', 'Lost']);
    expect(data.deals.nodes).toHaveLength(3);
    expect(data.tasks.nodes.map((t: any) => t.title)).toContain('Call back about the grinder');
    expect(data.inquiries.nodes).toEqual([{ subject: 'Beans arrived late', status: 'RESOLVED', firstResponseMinutes: 45 }]);
    // The shop's four, and the loyalty plugin's.
    expect(data.scoringRules.map((r: any) => r.plugin)).toEqual([null, null, null, null, 'loyalty']);
    expect(data.segments.nodes.map((s: any) => s.name)).toContain('Hot leads');
    const { journeys } = await crm(`{ journeys { nodes { name status } } }`);
    expect(journeys.nodes.map((j: any) => [j.name, j.status]).sort()).toEqual([
      ['Birthday coupon', 'ACTIVE'],
      ['Inquiry follow-up', 'ACTIVE'],
      ['Thank you for your first order', 'ACTIVE'],
      ['Win back lapsed repeat customers', 'ACTIVE'],
    ]);
  });

  it('forwards sign-up, views, cart and checkout to the CRM, and a cancellation after', async () => {
    const signup = await post('/api/customers', { email: 'Sakura@Example.jp', firstName: 'さくら', lastName: '田中', phone: '080-1234-5678', newsletter: true });
    expect(signup.status).toBe(201);
    const customerId = signup.body.id as string;
    await fetch(`${base}/api/products/SKU-0001?customerId=${customerId}`);
    const cart = await post('/api/carts', { customerId });
    expect((await post(`/api/carts/${cart.body.id}/items`, { sku: 'SKU-0001', quantity: 2 })).status).toBe(201);
    expect((await post(`/api/carts/${cart.body.id}/items`, { sku: 'SKU-0016', quantity: 1 })).status).toBe(201);
    const order = await post(`/api/carts/${cart.body.id}/checkout`, {});
    expect(order.status).toBe(201);
    const { rows: prices } = await pool.query<{ sku: string; price: number }>(`select sku, price from shop.products where sku in ('SKU-0001', 'SKU-0016')`);
    const price = Object.fromEntries(prices.map((p) => [p.sku, p.price]));
    const expected = 2 * price['SKU-0001']! + price['SKU-0016']!;
    expect(order.body.total).toBe(expected);

    const { customer } = await crm(
      `query($id: String!) { customer(externalId: $id) { email phone firstName emailConsent metrics { ordersCount totalSpent } loyalty { balance }
         orders { nodes { externalId status total lines { quantity product { externalId } } } } } }`,
      { id: customerId },
    );
    expect(customer).toMatchObject({
      email: 'sakura@example.jp',
      phone: '+818012345678',
      firstName: 'さくら',
      emailConsent: true,
      metrics: { ordersCount: 1, totalSpent: expected },
      // The loyalty plugin: 1 point per ¥100.
      loyalty: { balance: Math.floor(expected / 100) },
      orders: { nodes: [{ externalId: order.body.id, status: 'PLACED', total: expected }] },
    });
    const events = await kokyaku.orm.em
      .fork()
      .getConnection()
      .execute(`select type, count(*)::int as n from kokyaku.events e join kokyaku.customers c on c.id = e.customer_id where c.external_id = ? group by type order by type`, [
        customerId,
      ]);
    expect(events).toEqual([
      { type: 'added_to_cart', n: 2 },
      { type: 'product_viewed', n: 1 },
    ]);

    // The seeded thank-you journey mails the first-time buyer (here the test runs the due steps).
    await kokyaku.journeys.runDue(kokyaku.context());
    const { customer: mailed } = await crm(
      `query($id: String!) { customer(externalId: $id) { messages { nodes { channel status subject } } journeyRuns { nodes { status stepId } } } }`,
      { id: customerId },
    );
    expect(mailed.messages.nodes).toEqual([{ channel: 'EMAIL', status: 'SENT', subject: '田中 さくら 様、はじめてのご注文ありがとうございます' }]);
    expect(mailed.journeyRuns.nodes).toEqual([{ status: 'WAITING', stepId: 'wait' }]);
    const files = await fs.readdir(mailDir);
    expect(files).toHaveLength(1);
    expect(await fs.readFile(path.join(mailDir, files[0]!), 'utf8')).toContain('To: sakura@example.jp');

    expect((await post(`/api/orders/${order.body.id}/cancel`, {})).status).toBe(200);
    const cancelled = await crm(`query($id: String!) { customer(externalId: $id) { metrics { ordersCount totalSpent } loyalty { balance } } }`, { id: customerId });
    expect(cancelled.customer).toEqual({ metrics: { ordersCount: 0, totalSpent: 0 }, loyalty: { balance: 0 } });
  });

  it('shows "bought together" and "for you" blocks from the CRM on a product page', async () => {
    const { rows } = await pool.query<{ sku: string; name: string }>(`select sku, name from shop.products where category = 'coffee' order by sku limit 1`);
    const coffee = rows[0]!;
    const page = await fetch(`${base}/products/${coffee.sku}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const together = html.match(/<ul id="bought-together">(.*?)<\/ul>/s)![1]!;
    expect(together).toContain(`Bought together with ${coffee.name}`);
    // Coffee buyers pick up equipment and sweets in the demo data: those come first.
    const { body } = await get(`/api/products/${coffee.sku}`);
    expect(body.boughtTogether).toHaveLength(4);
    const { rows: categories } = await pool.query<{ category: string }>(`select category from shop.products where sku = $1`, [body.boughtTogether[0].sku]);
    expect(['equipment', 'sweets']).toContain(categories[0]!.category);

    // A customer with history gets personal picks with reasons; a stranger gets what is popular.
    const { rows: loyal } = await pool.query<{ customer_id: string }>(
      `select customer_id from shop.orders where status = 'PLACED' group by customer_id order by count(*) desc, customer_id limit 1`,
    );
    const forYou = await get(`/api/customers/${loyal[0]!.customer_id}/recommendations`);
    expect(forYou.body).toHaveLength(4);
    expect(forYou.body.some((r: { reason: string }) => /^(Because you|Buy again)/.test(r.reason))).toBe(true);
    const personal = await (await fetch(`${base}/products/${coffee.sku}?customerId=${loyal[0]!.customer_id}`)).text();
    expect(personal).toContain('<h2>For you</h2>');
    expect(await (await fetch(`${base}/products/${coffee.sku}`)).text()).toContain('<h2>Popular now</h2>');
    expect((await fetch(`${base}/products/NOPE`)).status).toBe(404);
  });

  it('rejects bad shop requests clearly', async () => {
    expect(await post('/api/customers', { email: 'x@example.jp' })).toMatchObject({ status: 400, body: { error: '"firstName" is required.' } });
    expect(await post('/api/carts', { customerId: 'nobody' })).toMatchObject({ status: 404 });
    const anonymous = await fetch(`${base}/crm/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ customers { totalCount } }"}' });
    expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('in a real browser', () => {
  let browser: Browser;
  /** Screenshots: the CI keeps this folder as the browser tests' artifacts. */
  const artifacts = path.resolve(import.meta.dirname, '..', '..', '..', 'test-results');
  beforeAll(async () => {
    await fs.mkdir(artifacts, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(() => browser?.close());

  it('the explorer page carries the staff token only for a shop that only this machine reaches', async () => {
    const open = await createShopApp({ kokyaku, pool, staffToken: 'secret-staff-token', log: () => undefined, storefront: false });
    const server = open.app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const page = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/crm/graphql`, { headers: { accept: 'text/html' } })).text();
      expect(page).toContain('Kokyaku GraphQL explorer');
      expect(page).not.toContain('secret-staff-token');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await open.stop();
    }
  });

  it('the GraphQL explorer loads offline and runs a query', async () => {
    const context = await browser.newContext();
    // Offline: any request that is not to the shop itself fails.
    await context.route(/.*/, (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.click('#explorer');
    await page.waitForSelector('.graphiql-container');
    await page.click('.graphiql-execute-button');
    await expect.poll(async () => page.locator('.result-window').innerText(), { timeout: 15_000 }).toContain('"totalCount": 151');
    await context.close();
  });

  it('the React storefront: a demo customer sees recommendations, a product page bought-together items, and staff preview a segment', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.route(/.*/, (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/storefront/`);
    // A visitor: popular products, and demo customers to sign in as.
    await page.getByTestId('popular').locator('li.recommendation').first().waitFor({ timeout: 30_000 });
    const first = page.getByTestId('demo-customers').locator('button').first();
    const name = (await first.innerText()).split(' (')[0]!;
    await first.click();
    await expect.poll(() => page.getByTestId('signed-in').innerText()).toContain(name.split(/\s+/)[0]!);
    // Signed in: recommendations for this customer, each with its reason.
    const forYou = page.getByTestId('for-you').locator('li.recommendation');
    await expect.poll(() => forYou.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const reasons = await page.getByTestId('for-you').locator('.reason').allInnerTexts();
    expect(reasons.some((r) => /^(Because you|Buy again|Popular)/.test(r))).toBe(true);
    // What the page shows is what the API gives this customer: recommendations, and the points of
    // the loyalty plugin (a plugin field the storefront asks for with a document of its own).
    const shown = await forYou.locator('a').allInnerTexts();
    const demo = (await get('/api/demo-customers')).body[0];
    const { customer: loyal } = await crm(`query($c: String!) { customer(externalId: $c) { loyalty { balance } } }`, { c: demo.id });
    expect(loyal.loyalty.balance).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('points').innerText()).toBe(`${loyal.loyalty.balance.toLocaleString('en')} pt`);
    const expected = await crm(`query($c: String!) { recommendations(customerExternalId: $c, strategy: FOR_CUSTOMER, first: 4) { product { name } } }`, { c: demo.id });
    expect(shown).toEqual(expected.recommendations.map((r: { product: { name: string } }) => r.product.name));
    await page.screenshot({ path: path.join(artifacts, 'storefront-for-you.png'), fullPage: true });

    // A product page: bought together.
    await forYou.first().locator('a').click();
    await page.getByTestId('bought-together').locator('li.recommendation').first().waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('bought-together').locator('.reason').first().innerText()).toMatch(/^Bought together with /);

    // Staff: a segment query, its count, and a mistake shown where it is.
    await page.getByRole('link', { name: 'Staff' }).click();
    await page.fill('input[name=token]', 'staff-token');
    await page.getByRole('button', { name: 'Use' }).click();
    const query = "number_of_orders >= 3 AND products_purchased MATCHES (category = 'coffee')";
    await page.getByTestId('segment-query').fill(query);
    const count = (await crm(`query($q: String!) { segmentPreview(query: $q) { count } }`, { q: query })).segmentPreview.count as number;
    expect(count).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('segment-count').innerText(), { timeout: 15_000 }).toBe(count.toLocaleString('en'));
    expect(await page.getByTestId('segment-customers').locator('li').count()).toBe(Math.min(5, count));
    await page.screenshot({ path: path.join(artifacts, 'storefront-segment-preview.png'), fullPage: true });
    await page.getByTestId('segment-query').fill('number_of_orders >= 2 AND\n  amount_spnt > 5');
    await expect.poll(() => page.getByTestId('segment-error').innerText(), { timeout: 15_000 }).toContain('(line 2, column 3)');
    const error = await page.getByTestId('segment-error').innerText();
    expect(error).toContain('Did you mean amount_spent?');
    expect(error).toContain('  amount_spnt > 5\n  ^');
    await page.screenshot({ path: path.join(artifacts, 'storefront-segment-error.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
    // Every step above waits for what it needs to see; this only caps the whole walk on a busy machine.
  }, 120_000);
});
