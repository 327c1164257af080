import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type Kokyaku, sql } from '@kokyaku/core';
import { createLogger } from '@kokyaku/server';
import { kokyakuExpress } from '@kokyaku/server/express';
import express from 'express';
import { chromium } from 'playwright-core';
import { percentile } from './stats.js';

/**
 * The staff console (@kokyaku/console) in the system Chromium, against the API alone in the same run:
 *
 * - initial JS: the gzip size of what the first page loads (entry script, its preloads, the CSS);
 * - the incoming call: from typing a whole phone number into Find to the caller's profile drawn,
 *   against the two requests it needs (searchCustomers, then the profile query) sent over HTTP;
 * - the dashboard: from opening it to every card drawn, against its six report queries sent at
 *   once over HTTP.
 */
export interface ConsoleBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

const TOKEN = 'bench-console-token';
const fmt = (n: number) => `${n.toFixed(0)} ms`;

const SEARCH = `query($q: String!) { searchCustomers(query: $q, first: 10) { nodes { field customer { id } } } }`;
const PROFILE = `query($id: ID!) { customer(id: $id) { id externalId email phone firstName lastName tags customFields metrics { ordersCount totalSpent averageOrderValue lastOrderAt firstOrderAt rfm { group recency frequency monetary } decile predictedClv churnRisk } leadScore { score band } scoreContributions { ruleName points } segments { id name } } }`;
const DASHBOARD = [
  '{ kpiReport(period: MONTH) { periods { start revenue orders averageOrderValue newCustomers returningCustomers repeatRate } } }',
  '{ rfmReport { cells { recency fm customers group } groups { group customers revenue revenueShare } } }',
  '{ repeatPurchaseReport { customers repeatCustomers repeatRate medianDaysToSecondOrder } }',
  '{ decileReport { deciles { decile customers revenue share } } }',
  '{ clvModel { warnings horizonMonths fittedAt } }',
  '{ cohortReport { cohorts { cohort customers retention { month rate } } } }',
];

/** Local form of +8190XXXXXXXX, the way a caller says it: 090-XXXX-XXXX. */
const national = (e164: string) => {
  const d = `0${e164.replace(/^\+81/, '')}`;
  return `${d.slice(0, 3)}-${d.slice(3, 7)}-${d.slice(7)}`;
};

export async function benchConsole(kokyaku: Kokyaku, options: { lookups: number; dashboards: number }, log: (line: string) => void): Promise<ConsoleBenchRow[]> {
  const app = express();
  const router = await kokyakuExpress(kokyaku, {
    path: '/graphql',
    console: true,
    logger: createLogger({ level: 'warn' }),
    identify: (req) => ({ actor: req.headers.authorization === `Bearer ${TOKEN}` ? { id: 'bench', roles: ['ADMIN'] } : null }),
  });
  app.use('/crm', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${base}/crm/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const rows: ConsoleBenchRow[] = [];
  try {
    // 1. What the first page loads.
    const html = await (await fetch(`${base}/crm/console/`)).text();
    const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    let gzip = 0;
    let raw = 0;
    for (const file of files) {
      const body = Buffer.from(await (await fetch(`${base}/crm/console/${file}`)).arrayBuffer());
      raw += body.length;
      gzip += gzipSync(body).length;
    }
    rows.push({
      name: 'initial JS + CSS of the console (gzip; goal <= 250 KB)',
      kokyaku: `${(gzip / 1024).toFixed(0)} KB`,
      baseline: `${(raw / 1024).toFixed(0)} KB before gzip`,
      ratio: gzip <= 250 * 1024 ? 'met' : 'missed',
    });
    log(`  initial load: ${(gzip / 1024).toFixed(0)} KB gzip (${files.length} files)`);

    // 2. The incoming call: customers with a phone and orders, spread over the shop.
    const callers = await sql<{ id: string; phone: string }>(
      kokyaku.context().em,
      `select id::text as id, phone from kokyaku.customers where tenant_id = 'default' and phone like '+8190%' and id % 997 = 1 order by id limit $1`,
      [options.lookups],
    );
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
    await page.goto(`${base}/crm/console/`);
    await page.getByLabel('Staff token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const combo = page.getByRole('combobox', { name: /Name, kana, email, phone/ });
    await combo.waitFor();
    const consoleMs: number[] = [];
    const apiMs: number[] = [];
    for (const [index, caller] of callers.entries()) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Find' }).click();
      await combo.fill('');
      const started = performance.now();
      await combo.fill(national(caller.phone));
      await page.waitForURL(`**/customers/${caller.id}`);
      await page.locator('.profile h1').waitFor();
      if (index > 0) consoleMs.push(performance.now() - started);
      const apiStarted = performance.now();
      const found = await api(SEARCH, { q: national(caller.phone) });
      await api(PROFILE, { id: found.searchCustomers.nodes[0].customer.id });
      if (index > 0) apiMs.push(performance.now() - apiStarted);
    }
    const p95 = percentile(consoleMs, 95);
    rows.push({
      name: `phone number typed -> profile drawn, p50 / p95 (${consoleMs.length} callers; goal p95 <= 300 ms; includes the 120 ms typing pause)`,
      kokyaku: `${fmt(percentile(consoleMs, 50))} / ${fmt(p95)}`,
      baseline: `${fmt(percentile(apiMs, 50))} / ${fmt(percentile(apiMs, 95))} (search + profile over HTTP)`,
      ratio: `${(p95 / percentile(apiMs, 95)).toFixed(1)}x, ${p95 <= 300 ? 'met' : 'missed'}`,
    });
    log(`  phone -> profile: p95 ${fmt(p95)} (API alone ${fmt(percentile(apiMs, 95))})`);

    // 3. The dashboard, every card drawn.
    const drawn: number[] = [];
    const alone: number[] = [];
    for (let round = 0; round < options.dashboards; round++) {
      const started = performance.now();
      await page.goto(`${base}/crm/console/dashboard`);
      await page.getByRole('region', { name: 'Cohort retention' }).waitFor({ timeout: 600_000 });
      await page.locator('.dashboard [role=status]').first().waitFor({ state: 'detached', timeout: 600_000 });
      drawn.push(performance.now() - started);
      const apiStarted = performance.now();
      await Promise.all(DASHBOARD.map((q) => api(q)));
      alone.push(performance.now() - apiStarted);
    }
    const median = (xs: number[]) => percentile(xs, 50);
    rows.push({
      name: `dashboard fully drawn, median of ${options.dashboards} (page load included)`,
      kokyaku: fmt(median(drawn)),
      baseline: `${fmt(median(alone))} (its 6 reports over HTTP at once)`,
      ratio: `${(median(drawn) / median(alone)).toFixed(2)}x`,
    });
    log(`  dashboard: ${fmt(median(drawn))} (API alone ${fmt(median(alone))})`);
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await router.stop();
  }
  return rows;
}
