import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { loyaltyPlugin } from '@kokyaku/example-plugin-loyalty';
import pg from 'pg';
import { expect as playwrightExpect } from '@playwright/test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createShopApp } from '../src/app.js';
import { seedDemoShop } from '../src/seed.js';
import { migrateShop } from '../src/shop-db.js';

/**
 * A staff member's day in the staff console (/crm/console) of the example shop, in a real
 * Chromium, at desk and phone size: every screen is walked, what it shows is checked against the
 * API, each screen is checked with axe, and screenshots land in test-results/console/.
 */
// Web-first assertions wait for what they check; generous, so that a busy machine only makes them slower.
const pwExpect = playwrightExpect.configure({ timeout: 20_000 });
const SHOTS = path.resolve(import.meta.dirname, '..', '..', '..', 'test-results', 'console');
const STAFF = 'staff-token';
const VIEWER = 'viewer-token';

let kokyaku: Kokyaku;
let pool: pg.Pool;
let base = '';
let browser: Browser;
let importDir = '';
let close: () => Promise<void>;

async function crm<T = any>(query: string, variables: Record<string, unknown> = {}, token = STAFF): Promise<T> {
  const res = await fetch(`${base}/crm/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

beforeAll(async () => {
  importDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-console-import-'));
  await fs.mkdir(SHOTS, { recursive: true });
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
    shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    plugins: [loyaltyPlugin()],
    imports: { directory: importDir },
  });
  pool = new pg.Pool({ connectionString: kokyaku.databaseUrl });
  await migrateShop(pool);
  await seedDemoShop(pool, kokyaku, { customers: 300, seed: 11, now: new Date('2026-11-01T00:00:00Z') });
  const shop = await createShopApp({ kokyaku, pool, staffToken: STAFF, viewerToken: VIEWER, log: () => undefined, storefront: false });
  const server = shop.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  close = async () => {
    await browser.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await shop.stop();
    await pool.end();
    await kokyaku.close();
  };
}, 180_000);
afterAll(() => close?.());

const DESK = { name: 'desk', viewport: { width: 1280, height: 900 } };
const PHONE = { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function open(device: typeof DESK | typeof PHONE, token: string | null, locale = 'en-US'): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ ...device, locale, timezoneId: 'Europe/London', acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/crm/console/`);
  if (token) {
    await page.getByLabel(/Staff token|スタッフトークン/).fill(token);
    await page.getByRole('button', { name: /^(Sign in|サインイン)$/ }).click();
    await pwExpect(page.locator('#main-nav')).toBeAttached();
  }
  return { context, page, errors };
}

/** axe on the page as it is: no serious or critical violation. */
async function accessible(page: Page, screen: string) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map(
      (v) =>
        `${screen}: ${v.id} (${v.impact}) ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(' | ')}`,
    ),
  ).toEqual([]);
}

/** On a phone: nothing wider than the screen, and every control a thumb can hit (44 px). */
async function phoneReady(page: Page, screen: string) {
  const report = await page.evaluate(() => {
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    const small: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>(
      'button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea, nav a, .chips a, .tabs a',
    )) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || element.closest('[hidden], dialog:not([open])')) continue;
      if (box.height < 44)
        small.push(`${element.tagName.toLowerCase()} "${(element.textContent ?? element.getAttribute('aria-label') ?? '').trim().slice(0, 30)}" ${Math.round(box.height)}px`);
    }
    return { overflow, small };
  });
  expect(report.overflow, `${screen}: wider than the phone by ${report.overflow}px`).toBeLessThanOrEqual(0);
  expect(report.small, `${screen}: controls under 44 px`).toEqual([]);
}

async function shot(page: Page, device: string, screen: string) {
  await page.screenshot({ path: path.join(SHOTS, `${device}-${screen}.png`), fullPage: true });
}

/** A phone number as people write it in Japan: +819012345678 -> 090-1234-5678. */
function national(e164: string): string {
  const digits = `0${e164.replace(/^\+81/, '')}`;
  return digits.length === 11 ? `${digits.slice(0, 3)}-${digits.slice(3, 7)}-${digits.slice(7)}` : `${digits.slice(0, 2)}-${digits.slice(2, 6)}-${digits.slice(6)}`;
}

describe('staff console', () => {
  it('is served beside the API with its own assets, a CSP, and deep links', async () => {
    const page = await fetch(`${base}/crm/console/customers/1`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<base href="/crm/console/">');
    expect(html).toContain('"graphql":"/crm/graphql"');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${base}/crm/console/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // React's production build, whatever NODE_ENV built it (the test run's is "test").
    expect(await asset.text()).not.toContain('validateDOMNesting');
    expect((await fetch(`${base}/crm/console/assets/gone.js`)).status).toBe(404);
    const bare = await fetch(`${base}/crm/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, '/crm/console/']);
  });

  it('asks for the staff token, refuses a wrong one, and speaks the browser language', async () => {
    const { context, page } = await open(DESK, null, 'ja-JP');
    await pwExpect(page.getByRole('heading', { name: 'CRM にサインイン' })).toBeVisible();
    await accessible(page, 'sign-in');
    await shot(page, 'desk', 'sign-in');
    await page.getByLabel('スタッフトークン').fill('wrong');
    await page.getByRole('button', { name: 'サインイン' }).click();
    await pwExpect(page.getByRole('alert')).toContainText('受け付けられませんでした');
    await page.getByLabel('スタッフトークン').fill(STAFF);
    await page.getByRole('button', { name: 'サインイン' }).click();
    await pwExpect(page.getByRole('heading', { name: '顧客を探す' })).toBeVisible();
    // The switch: English, kept for the next visit.
    await page.getByLabel('言語').selectOption('en');
    await pwExpect(page.getByRole('heading', { name: 'Find a customer' })).toBeVisible();
    await page.reload();
    await pwExpect(page.getByRole('heading', { name: 'Find a customer' })).toBeVisible();
    await context.close();
  });

  it('walks every screen at desk size', { timeout: 240_000 }, async () => {
    const { context, page, errors } = await open(DESK, STAFF);
    const combo = page.getByRole('combobox', { name: /Name, kana, email, phone/ });

    // 1. Find a customer: the incoming call. A phone number as the caller says it opens their profile.
    const { customers } = await crm(`{ customers(first: 60) { nodes { id externalId firstName lastName phone metrics { ordersCount totalSpent rfm { group } } } } }`);
    const caller = customers.nodes.find((c: any) => c.phone && c.metrics.ordersCount >= 2);
    await accessible(page, 'find');
    await combo.fill(national(caller.phone));
    await page.waitForURL(`**/crm/console/customers/${caller.id}`);
    await pwExpect(page.getByRole('heading', { level: 1 })).toHaveText(`${caller.firstName} ${caller.lastName}`);
    // Keyboard only: a name fragment, arrow down, Enter.
    await page.goBack();
    await page.waitForURL(/\/crm\/console\/\?q=/);
    await combo.fill(caller.lastName);
    // The address follows what is typed (back from a profile returns to these results).
    await page.waitForURL((url) => url.searchParams.get('q') === caller.lastName);
    const options = page.getByRole('listbox', { name: 'Results' }).getByRole('option');
    await pwExpect(options.first()).toContainText(caller.lastName);
    await shot(page, 'desk', 'find');
    const count = await options.count();
    if (count > 1) await combo.press('ArrowDown');
    await pwExpect(options.nth(count > 1 ? 1 : 0)).toHaveAttribute('aria-selected', 'true');
    const chosen = (await options.nth(count > 1 ? 1 : 0).getAttribute('id'))!.replace('hit-', '');
    await combo.press('Enter');
    await page.waitForURL(`**/customers/${chosen}`);
    await page.goBack();
    await pwExpect(combo).toHaveValue(caller.lastName);

    // 2. The profile, against the API.
    await page.goto(`${base}/crm/console/customers/${caller.id}`);
    const stat = (label: string) =>
      page
        .locator('.stat')
        .filter({ has: page.getByText(label, { exact: true }) })
        .locator('dd');
    await pwExpect(stat('Orders')).toHaveText(String(caller.metrics.ordersCount));
    await pwExpect(stat('Spent')).toHaveText(`¥${caller.metrics.totalSpent.toLocaleString('en-US')}`);
    await pwExpect(stat('RFM group')).toContainText(caller.metrics.rfm.group);
    await pwExpect(page.getByRole('region', { name: 'For this customer' }).getByRole('listitem').first()).toBeVisible();
    await pwExpect(page.getByRole('list', { name: 'Timeline' }).getByRole('listitem').first()).toBeVisible();
    await accessible(page, 'profile');
    // A note, a follow-up task, tags and a custom field.
    await page.getByLabel('Note', { exact: true }).fill('Called about the grinder; prefers mornings.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await pwExpect(page.getByRole('list', { name: 'Timeline' })).toContainText('Called about the grinder');
    await page.getByLabel('Task', { exact: true }).fill('Send the decaf sample');
    await page.getByRole('button', { name: 'Create task' }).click();
    await pwExpect(page.getByRole('region', { name: 'Open tasks' })).toContainText('Send the decaf sample');
    await page.getByRole('button', { name: 'Complete: Send the decaf sample' }).click();
    await pwExpect(page.getByRole('region', { name: 'Open tasks' })).not.toContainText('Send the decaf sample');
    await page.getByRole('button', { name: 'Edit tags' }).click();
    await page.getByLabel('Tags, separated by commas').fill('vip, phone-call');
    await page.locator('.tags-form').getByRole('button', { name: 'Save' }).click();
    await pwExpect(page.getByRole('list', { name: 'Tags' })).toHaveText(/vip\s*phone-call/);
    await page.getByLabel('Field', { exact: true }).fill('roast');
    await page.getByLabel('Value', { exact: true }).fill('dark');
    await page.getByRole('region', { name: 'Custom fields' }).getByRole('button', { name: 'Save' }).click();
    await pwExpect(page.getByRole('region', { name: 'Custom fields' }).locator('dd')).toContainText(['dark']);
    const stored = await crm(`query($id: ID!) { customer(id: $id) { tags customFields } }`, { id: caller.id });
    expect(stored.customer).toMatchObject({ tags: ['vip', 'phone-call'], customFields: { roast: 'dark' } });
    await shot(page, 'desk', 'profile');

    // Merge a duplicate (preview first), then export and erase another customer.
    const [duplicate, leaving] = customers.nodes.filter((c: any) => c.id !== caller.id && c.id !== chosen).slice(-2);
    await page.getByLabel('Kokyaku id of the duplicate').fill(duplicate.id);
    await page.getByRole('button', { name: 'Preview merge' }).click();
    await pwExpect(page.getByRole('status').filter({ hasText: 'move here' })).toContainText(`${duplicate.metrics.ordersCount} orders`);
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    await pwExpect(page.getByText('Merged.')).toBeVisible();
    await pwExpect(stat('Orders')).toHaveText(String(caller.metrics.ordersCount + duplicate.metrics.ordersCount));
    await page.goto(`${base}/crm/console/customers/${leaving.id}`);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download data export' }).click();
    const exported = JSON.parse(await fs.readFile((await (await download).path())!, 'utf8'));
    expect(JSON.stringify(exported)).toContain(leaving.externalId);
    await page.getByRole('button', { name: 'Erase this customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase this customer' });
    await pwExpect(dialog).toContainText(leaving.lastName);
    await accessible(page, 'erase-dialog');
    await dialog.getByLabel(/Reason/).fill('customer request by phone');
    await dialog.getByRole('button', { name: 'Erase this customer' }).click();
    await pwExpect(page.getByRole('heading', { level: 1 })).toContainText('Erased');

    // 3. Segments: errors at their place as you type, completion, a live count, save, members, CSV.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
    const editor = page.getByRole('textbox', { name: 'Segment query' });
    await editor.click();
    await page.keyboard.type('number_of_orders >= 2 ANDD');
    await pwExpect(page.locator('#segment-status')).toContainText('Line 1, column 23');
    await pwExpect(page.locator('.cm-lintRange-error')).toHaveText('ANDD');
    await shot(page, 'desk', 'segment-error');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('AND rfm_gr');
    await page.keyboard.press('Control+Space');
    await pwExpect(page.getByRole('option', { name: /rfm_group/ })).toBeVisible();
    await page.getByRole('option', { name: /rfm_group/ }).click();
    await page.keyboard.type(' = ');
    await page.keyboard.press('Control+Space');
    await pwExpect(page.getByRole('option', { name: 'CHAMPIONS' })).toBeVisible();
    await page.getByRole('option', { name: 'CHAMPIONS' }).click();
    await pwExpect(editor).toHaveText('number_of_orders >= 2 AND rfm_group = CHAMPIONS');
    const query = 'number_of_orders >= 2 AND rfm_group = CHAMPIONS';
    const { segmentPreview } = await crm(`query($q: String!) { segmentPreview(query: $q) { count } }`, { q: query });
    expect(segmentPreview.count).toBeGreaterThan(0);
    await pwExpect(page.locator('#segment-status')).toHaveText(`${segmentPreview.count.toLocaleString('en-US')} customers`);
    await accessible(page, 'segments');
    await page.getByLabel('Name', { exact: true }).fill('Repeat champions');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/segments\/\d+$/);
    await pwExpect(page.getByRole('heading', { level: 1 })).toContainText('Repeat champions');
    const members = page.getByRole('region', { name: 'Members' });
    await pwExpect(members.getByRole('row')).toHaveCount(Math.min(25, segmentPreview.count) + 1);
    const csv = page.waitForEvent('download');
    await members.getByRole('button', { name: 'Download CSV' }).click();
    const lines = (await fs.readFile((await (await csv).path())!, 'utf8')).trim().split('\r\n');
    expect(lines.length).toBe(segmentPreview.count + 1);
    await shot(page, 'desk', 'segment');
    await page.goBack();
    await pwExpect(page.getByRole('heading', { name: 'Segments', level: 1 })).toBeVisible();

    // 4. Dashboard: figures equal the API's; an RFM cell opens its customers as a segment.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const { kpiReport, rfmReport } = await crm(`{ kpiReport(period: MONTH) { periods { revenue orders } } rfmReport { cells { recency fm customers group } } }`);
    const revenue = kpiReport.periods.reduce((s: number, p: any) => s + p.revenue, 0);
    await pwExpect(page.locator('.kpis .stat').first().locator('dd')).toContainText(`¥${revenue.toLocaleString('en-US')}`);
    await pwExpect(page.getByRole('region', { name: 'Cohort retention' }).getByRole('row').nth(1)).toBeVisible();
    await pwExpect(page.getByRole('region', { name: 'Spend deciles' }).getByRole('row')).toHaveCount(11);
    await pwExpect(page.getByRole('region', { name: 'Repeat purchase' })).toContainText('ordered again');
    await accessible(page, 'dashboard');
    await shot(page, 'desk', 'dashboard');
    const cell = rfmReport.cells.filter((c: any) => c.customers > 0).sort((a: any, b: any) => b.customers - a.customers)[0];
    await page.getByRole('button', { name: new RegExp(`^R${cell.recency} FM${cell.fm}:`) }).click();
    await page.waitForURL(/\/segments\/new\?query=/);
    await pwExpect(page.locator('#segment-status')).toHaveText(`${cell.customers.toLocaleString('en-US')} customers`);

    // 5. Work: tasks, the inquiries inbox with a thread and a reply, the deals board.
    await page.getByRole('link', { name: 'Work' }).click();
    await pwExpect(page.getByRole('region', { name: 'Tasks' })).toContainText('Call back about the grinder');
    const { tasks } = await crm(`{ tasks(overdue: true, status: OPEN, first: 50) { nodes { title } } }`);
    await page.getByLabel('Overdue').check();
    await pwExpect(page.getByRole('region', { name: 'Tasks' }).getByRole('listitem')).toHaveText(tasks.nodes.map((n: any) => new RegExp(n.title)));
    await accessible(page, 'tasks');
    await page.getByRole('link', { name: 'Inquiries' }).click();
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('region', { name: 'Inquiries' }).getByRole('link').first().click();
    await page.waitForURL(/\/work\/inquiries\/\d+$/);
    await page.getByLabel('Your reply').fill('The replacement ships today.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await pwExpect(page.locator('.thread')).toContainText('The replacement ships today.');
    await page.getByLabel('Status').selectOption('CLOSED');
    await pwExpect(page.getByLabel('Status')).toHaveValue('CLOSED');
    await accessible(page, 'inquiry');
    await shot(page, 'desk', 'inquiry');
    await page.getByRole('link', { name: 'Deals' }).click();
    const lead = page.getByRole('region', { name: 'Lead' });
    await pwExpect(lead).toContainText('Cold brew kits');
    await page.getByLabel('Move to: Cold brew kits').selectOption({ label: 'Tasting' });
    await pwExpect(page.getByRole('region', { name: 'Tasting' })).toContainText('Cold brew kits');
    await pwExpect(lead).not.toContainText('Cold brew kits');
    await pwExpect(page.getByRole('region', { name: 'Weighted forecast' }).getByRole('row').nth(1)).toBeVisible();
    await accessible(page, 'deals');
    await shot(page, 'desk', 'deals');

    // 6. Journeys: the list with counts, one journey's steps, pause and activate.
    await page.getByRole('link', { name: 'Journeys' }).click();
    const { journeys } = await crm(`{ journeys { nodes { id name status report { runs } } } }`);
    const active = journeys.nodes.filter((j: any) => j.status === 'ACTIVE').sort((a: any, b: any) => b.report.runs - a.report.runs)[0];
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: active.name }) });
    await pwExpect(row.getByRole('cell').nth(1)).toHaveText(String(active.report.runs));
    await accessible(page, 'journeys');
    await row.getByRole('link').click();
    await pwExpect(page.getByRole('region', { name: 'Steps' }).getByRole('listitem').nth(1)).toContainText('Waiting');
    await page.getByRole('button', { name: 'Pause' }).click();
    await pwExpect(page.getByRole('heading', { level: 1 })).toContainText('PAUSED');
    await page.getByRole('button', { name: 'Activate' }).click();
    await pwExpect(page.getByRole('heading', { level: 1 })).toContainText('ACTIVE');
    await accessible(page, 'journey');
    await shot(page, 'desk', 'journey');

    // 7. Import: a CSV with Japanese headers and one bad row; columns suggested, one row refused.
    await page.getByRole('link', { name: 'Import' }).click();
    const file = path.join(importDir, 'new-customers.csv');
    // Line 3 has no customer id (refused); line 4 an email that is none (stored without it, with a
    // warning). The column メモ names no field: staff map it to tags.
    await fs.writeFile(
      file,
      '顧客ID,姓,名,メールアドレス,メモ\nnew-1,佐藤,花子,hanako.sato@example.jp,常連\n,鈴木,一郎,ichiro@example.jp,\nnew-3,高橋,健,not-an-email,\nnew-4,伊藤,健,ken@example.jp,新規\n',
    );
    await page.getByLabel('What the file holds').selectOption('customers');
    await page.getByLabel('CSV file').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await pwExpect(page.getByRole('region', { name: 'Columns' })).toContainText('3 of 4 rows can be imported; 1 refused');
    await pwExpect(page.getByLabel('Column of the file: email', { exact: true })).toHaveValue('メールアドレス');
    await pwExpect(page.getByLabel('Column of the file: tags', { exact: true })).toHaveValue('');
    await pwExpect(page.getByRole('region', { name: 'Columns' })).toContainText('Not imported: メモ');
    await page.getByLabel('Column of the file: tags', { exact: true }).selectOption('メモ');
    await page.getByRole('button', { name: 'Check again with these columns' }).click();
    await pwExpect(page.getByRole('region', { name: 'Columns' })).not.toContainText('Not imported');
    await accessible(page, 'import-columns');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await pwExpect(page.getByText('Imported: 4 rows read, 1 refused, 1 stored with a warning.')).toBeVisible();
    const problemRows = page.getByRole('region', { name: 'Problems' }).getByRole('row');
    await pwExpect(problemRows.nth(1)).toContainText('3');
    await pwExpect(problemRows.nth(2)).toContainText('4');
    const problems = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download problems (CSV)' }).click();
    expect(await fs.readFile((await (await problems).path())!, 'utf8')).toMatch(/^\uFEFFline,column,reason,stored\r\n3,/);
    const imported = await crm(`{ a: customer(externalId: "new-3") { lastName email tags } b: customer(externalId: "new-4") { lastName email tags } }`);
    expect(imported).toEqual({ a: { lastName: '高橋', email: null, tags: [] }, b: { lastName: '伊藤', email: 'ken@example.jp', tags: ['新規'] } });
    await shot(page, 'desk', 'import');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('walks every screen on a phone (390 x 844): one column, thumb-sized controls, the follow-up from the profile', { timeout: 240_000 }, async () => {
    const { context, page, errors } = await open(PHONE, STAFF, 'ja-JP');
    const { customers } = await crm(`{ customers(first: 30) { nodes { id firstName lastName phone } } }`);
    const caller = customers.nodes.find((c: any) => c.phone);
    const screens: [string, () => Promise<void>][] = [
      [
        'find',
        async () => {
          await page.getByRole('combobox', { name: /氏名/ }).fill(national(caller.phone));
          await page.waitForURL(`**/customers/${caller.id}`);
          await page.goBack();
          await pwExpect(page.getByRole('heading', { name: '顧客を探す' })).toBeVisible();
        },
      ],
      [
        'profile',
        async () => {
          await page.goto(`${base}/crm/console/customers/${caller.id}`);
          await page.getByRole('button', { name: 'タグを編集' }).click();
          await page.getByLabel('タグ（カンマ区切り）').fill('電話対応');
          await page.locator('.tags-form').getByRole('button', { name: '保存' }).click();
          await pwExpect(page.getByRole('list', { name: 'タグ' })).toHaveText('電話対応');
          await page.getByLabel('タスク', { exact: true }).fill('折り返し電話');
          await page.getByRole('button', { name: 'タスクを作成' }).click();
          await pwExpect(page.getByRole('region', { name: '未完了のタスク' })).toContainText('折り返し電話');
        },
      ],
      [
        'dashboard',
        async () => {
          await page.goto(`${base}/crm/console/dashboard`);
          await pwExpect(page.getByRole('region', { name: 'デシル分析' }).getByRole('row')).toHaveCount(11);
          await pwExpect(page.getByRole('region', { name: 'コホート別継続率' }).getByRole('row').nth(1)).toBeVisible();
        },
      ],
      [
        'segments',
        async () => {
          await page.goto(`${base}/crm/console/segments`);
          await page.getByRole('textbox', { name: 'セグメント条件' }).click();
          await page.keyboard.type('number_of_orders >= 3');
          await pwExpect(page.locator('#segment-status')).toHaveText(/\d+ 人/);
        },
      ],
      [
        'tasks',
        async () => {
          await page.goto(`${base}/crm/console/work/tasks`);
          await pwExpect(page.getByRole('region', { name: 'タスク' })).toContainText('折り返し電話');
        },
      ],
      [
        'inquiries',
        async () => {
          await page.goto(`${base}/crm/console/work/inquiries`);
          await page.getByLabel('状態').selectOption('');
          await pwExpect(page.getByRole('region', { name: '問い合わせ' }).getByRole('link').first()).toBeVisible();
        },
      ],
      [
        'deals',
        async () => {
          await page.goto(`${base}/crm/console/work/deals`);
          await pwExpect(page.getByRole('region', { name: 'Proposal' })).toContainText('House blend');
        },
      ],
      [
        'journeys',
        async () => {
          await page.goto(`${base}/crm/console/journeys`);
          await page.getByRole('table').getByRole('link').first().click();
          await pwExpect(page.getByRole('region', { name: 'ステップ' })).toBeVisible();
        },
      ],
      [
        'import',
        async () => {
          await page.goto(`${base}/crm/console/import`);
          await pwExpect(page.getByLabel('CSV ファイル')).toBeVisible();
        },
      ],
    ];
    for (const [screen, walk] of screens) {
      await walk();
      await phoneReady(page, screen);
      await accessible(page, `phone ${screen}`);
      await shot(page, 'phone', screen);
    }
    // The menu: behind a button on a phone.
    const menu = page.getByRole('button', { name: 'メニュー' });
    await pwExpect(page.getByRole('link', { name: 'ダッシュボード' })).toBeHidden();
    await menu.click();
    await pwExpect(page.getByRole('link', { name: 'ダッシュボード' })).toBeVisible();
    await shot(page, 'phone', 'menu');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a VIEWER masked contact data and no changes, and the server refuses what is not offered', async () => {
    const { context, page } = await open(DESK, VIEWER);
    await pwExpect(page.getByRole('note')).toContainText('Read-only access');
    await pwExpect(page.getByRole('link', { name: 'Import' })).toHaveCount(0);
    const { customers } = await crm(`{ customers(first: 5) { nodes { id email } } }`);
    const someone = customers.nodes.find((c: any) => c.email);
    await page.goto(`${base}/crm/console/customers/${someone.id}`);
    await pwExpect(page.getByRole('region', { name: 'Contact' })).toContainText('***');
    await pwExpect(page.getByRole('region', { name: 'Contact' })).not.toContainText(someone.email);
    for (const control of ['Add note', 'Create task', 'Edit tags', 'Preview merge', 'Erase this customer']) {
      await pwExpect(page.getByRole('button', { name: control })).toHaveCount(0);
    }
    await accessible(page, 'viewer profile');
    await shot(page, 'desk', 'viewer-profile');
    const refused = await fetch(`${base}/crm/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${VIEWER}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { updateCustomer(id: $id, tags: ["x"]) { id } }', variables: { id: someone.id } }),
    });
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    await context.close();
  });
});
