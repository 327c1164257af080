import { existsSync, readFileSync } from 'node:fs';
import { type Kokyaku, type KokyakuContext, DEFAULT_RFM_GRID, type OrderInput, RFM_GROUPS, fmScore } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCdnow } from '../src/analytics/clv/cdnow.js';
import { addDays } from '../src/shared/dates.js';

/**
 * Analytics against an independent computation: the fixture's orders are also kept as plain
 * objects, and RFM scores, groups, deciles, cohorts and KPIs are recomputed here in JavaScript
 * from the definitions in docs/analytics.md.
 */
let kokyaku: Kokyaku;
const NOW = new Date('2026-06-30T12:00:00Z');
const TODAY = '2026-06-30';
const ctx = () => kokyaku.context();

interface FixtureOrder {
  id: string;
  customer: string;
  day: string;
  amount: number;
  status: 'PLACED' | 'CANCELLED';
}

const orders: FixtureOrder[] = [];
const customers = Array.from({ length: 60 }, (_, i) => `a${String(i).padStart(2, '0')}`);

function buildFixture() {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let n = 0;
  customers.forEach((customer, i) => {
    if (i % 12 === 11) return; // prospects: no orders at all
    const count = 1 + Math.floor(random() ** 2 * 8);
    for (let k = 0; k < count; k++) {
      const day = addDays(TODAY, -Math.floor(random() * 540));
      // Distinct amounts per order keep ties out of the decile boundaries.
      orders.push({ id: `ord-${++n}`, customer, day, amount: 1000 + Math.floor(random() * 20000) + n, status: random() < 0.1 ? 'CANCELLED' : 'PLACED' });
    }
  });
}

const toInput = (o: FixtureOrder): OrderInput => ({
  externalId: o.id,
  customerExternalId: o.customer,
  placedAt: `${o.day}T10:00:00Z`,
  status: o.status,
  lines: [{ productExternalId: 'p', quantity: 1, unitPrice: o.amount }],
});

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'UTC' } });
  buildFixture();
  await kokyaku.customers.upsert(
    ctx(),
    customers.map((externalId) => ({ externalId })),
  );
  await kokyaku.orders.record(ctx(), orders.map(toInput));
  await kokyaku.refresh({ now: NOW });
});
afterAll(() => kokyaku?.close());

const daysBetween = (a: string, b: string) => (Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000;
const percentileDisc = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
};

function expectedScores() {
  const placed = orders.filter((o) => o.status === 'PLACED');
  const per = customers.map((customer) => {
    const mine = placed.filter((o) => o.customer === customer);
    const last = mine
      .map((o) => o.day)
      .sort()
      .at(-1);
    return { customer, count: mine.length, spent: mine.reduce((s, o) => s + o.amount, 0), recency: last ? daysBetween(last, TODAY) : null };
  });
  const buyers = per.filter((c) => c.count > 0);
  const cuts = (values: number[], ps: number[]) => ps.map((p) => percentileDisc(values, p));
  const q = [0.2, 0.4, 0.6, 0.8];
  const rc = cuts(
    buyers.map((c) => c.recency!),
    q,
  );
  const fc = cuts(
    buyers.map((c) => c.count),
    q,
  );
  const mc = cuts(
    buyers.map((c) => c.spent),
    q,
  );
  const dc = cuts(
    buyers.map((c) => c.spent),
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  );
  return per.map((c) => {
    if (c.count === 0) return { ...c, r: null, f: null, m: null, decile: null, group: 'PROSPECTS' };
    const r = 5 - rc.filter((cut) => c.recency! > cut).length;
    const f = 1 + fc.filter((cut) => c.count > cut).length;
    const m = 1 + mc.filter((cut) => c.spent > cut).length;
    const decile = 10 - dc.filter((cut) => c.spent > cut).length;
    return { ...c, r, f, m, decile, group: DEFAULT_RFM_GRID[String(r) as '1'][fmScore(f, m) - 1] };
  });
}

describe('RFM and deciles', () => {
  it('scores and groups every customer as the definitions say', async () => {
    const want = expectedScores();
    for (const w of want) {
      const c = await kokyaku.customers.findByExternalId(ctx(), w.customer);
      expect(c!.metrics, w.customer).toMatchObject({
        ordersCount: w.count,
        totalSpent: w.spent,
        rfm: { recency: w.r, frequency: w.f, monetary: w.m, group: w.group },
        decile: w.decile,
      });
    }
    // Every customer is in exactly one group, and the groups cover several names.
    expect(new Set(want.map((w) => w.group)).size).toBeGreaterThan(4);
  });

  it('reports customers and revenue per group and per (R, FM) cell', async () => {
    const want = expectedScores();
    const report = await kokyaku.analytics.rfmReport(ctx());
    expect(report.customers).toBe(customers.length);
    for (const group of RFM_GROUPS) {
      const mine = want.filter((w) => w.group === group);
      expect(
        report.groups.find((g) => g.group === group),
        group,
      ).toMatchObject({ customers: mine.length, revenue: mine.reduce((s, w) => s + w.spent, 0) });
    }
    const cellTotal = report.cells.reduce((s, c) => s + c.customers, 0);
    expect(cellTotal).toBe(want.filter((w) => w.r !== null).length);
    for (const cell of report.cells) {
      const mine = want.filter((w) => w.r === cell.recency && w.f !== null && fmScore(w.f, w.m!) === cell.fm);
      expect(cell.customers).toBe(mine.length);
      expect(cell.group).toBe(DEFAULT_RFM_GRID[String(cell.recency) as '1'][cell.fm - 1]);
    }
  });

  it('splits a period into ten equal spend groups', async () => {
    const from = addDays(TODAY, -364);
    const spend = new Map<string, number>();
    for (const o of orders) if (o.status === 'PLACED' && o.day >= from && o.day <= TODAY) spend.set(o.customer, (spend.get(o.customer) ?? 0) + o.amount);
    const ranked = [...spend.values()].sort((a, b) => b - a);
    const total = ranked.reduce((a, b) => a + b, 0);
    // ntile(10): the first (n mod 10) groups take one more customer.
    const base = Math.floor(ranked.length / 10);
    const extra = ranked.length % 10;
    let start = 0;
    let cumulative = 0;
    const report = await kokyaku.analytics.decileReport(ctx(), { from, to: TODAY });
    expect(report.deciles).toHaveLength(10);
    for (let d = 1; d <= 10; d++) {
      const size = base + (d <= extra ? 1 : 0);
      const group = ranked.slice(start, start + size);
      start += size;
      const revenue = group.reduce((a, b) => a + b, 0);
      cumulative += revenue;
      expect(report.deciles[d - 1]).toMatchObject({ decile: d, customers: size, revenue, maxSpend: group[0], minSpend: group.at(-1) });
      expect(report.deciles[d - 1]!.share).toBeCloseTo(revenue / total, 10);
      expect(report.deciles[d - 1]!.cumulativeShare).toBeCloseTo(cumulative / total, 10);
    }
  });
});

describe('cohorts, repeat purchase and KPIs', () => {
  const placed = () => orders.filter((o) => o.status === 'PLACED');
  const month = (day: string) => day.slice(0, 7);
  const monthsBetween = (a: string, b: string) => (Number(b.slice(0, 4)) - Number(a.slice(0, 4))) * 12 + Number(b.slice(5, 7)) - Number(a.slice(5, 7));

  it('follows each monthly cohort month by month', async () => {
    const firsts = new Map<string, string>();
    for (const o of placed()) if (!firsts.has(o.customer) || o.day < firsts.get(o.customer)!) firsts.set(o.customer, o.day);
    const report = await kokyaku.analytics.cohortReport(ctx(), { from: '2025-01-01', to: TODAY });
    const expectedCohorts = [...new Set([...firsts.values()].map(month))].filter((m) => m >= '2025-01').sort();
    expect(report.cohorts.map((c) => c.cohort)).toEqual(expectedCohorts);
    for (const cohort of report.cohorts) {
      const members = [...firsts].filter(([, day]) => month(day) === cohort.cohort).map(([c]) => c);
      expect(cohort.customers).toBe(members.length);
      for (const r of cohort.retention) {
        const active = members.filter((c) => placed().some((o) => o.customer === c && monthsBetween(cohort.cohort, month(o.day)) === r.month));
        expect(r.customers, `${cohort.cohort}+${r.month}`).toBe(active.length);
        expect(r.rate).toBeCloseTo(active.length / members.length, 10);
      }
    }
  });

  it('measures the repeat purchase rate and the time to the second order', async () => {
    const byCustomer = new Map<string, string[]>();
    for (const o of placed()) byCustomer.set(o.customer, [...(byCustomer.get(o.customer) ?? []), o.day]);
    const gaps = [...byCustomer.values()]
      .filter((d) => d.length > 1)
      .map((d) => d.sort())
      .map((d) => daysBetween(d[0]!, d[1]!))
      .sort((a, b) => a - b);
    const report = await kokyaku.analytics.repeatPurchaseReport(ctx());
    expect(report).toMatchObject({ customers: byCustomer.size, repeatCustomers: gaps.length });
    expect(report.repeatRate).toBeCloseTo(gaps.length / byCustomer.size, 10);
    const mid = (gaps.length - 1) / 2;
    expect(report.medianDaysToSecondOrder).toBeCloseTo((gaps[Math.floor(mid)]! + gaps[Math.ceil(mid)]!) / 2, 6);
    expect(report.averageDaysToSecondOrder).toBeCloseTo(gaps.reduce((a, b) => a + b, 0) / gaps.length, 6);
  });

  it('reports revenue, orders, AOV, new and returning customers per month', async () => {
    const report = await kokyaku.analytics.kpiReport(ctx(), { from: '2026-01-01', to: TODAY, period: 'MONTH' });
    const firsts = new Map<string, string>();
    for (const o of placed()) if (!firsts.has(o.customer) || o.day < firsts.get(o.customer)!) firsts.set(o.customer, o.day);
    for (const p of report.periods) {
      const inMonth = placed().filter((o) => month(o.day) === p.start.slice(0, 7));
      const buyers = [...new Set(inMonth.map((o) => o.customer))];
      const revenue = inMonth.reduce((s, o) => s + o.amount, 0);
      expect(p, p.start).toMatchObject({
        revenue,
        orders: inMonth.length,
        averageOrderValue: Math.round(revenue / inMonth.length),
        newCustomers: buyers.filter((c) => month(firsts.get(c)!) === p.start.slice(0, 7)).length,
        returningCustomers: buyers.filter((c) => month(firsts.get(c)!) < p.start.slice(0, 7)).length,
      });
    }
    expect(report.periods.map((p) => p.start)).toEqual(['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01', '2026-05-01', '2026-06-01']);
  });

  it('computes ROI and ROAS from a given or a segment-attributed revenue', async () => {
    expect(await kokyaku.analytics.campaignReport(ctx(), { cost: 1000, revenue: 4000 })).toMatchObject({ roi: 3, roas: 4 });
    const from = addDays(TODAY, -29);
    const segment = await kokyaku.segments.compile(ctx(), 'number_of_orders >= 3', { firstParam: 5, now: NOW });
    const report = await kokyaku.analytics.campaignReport(ctx(), { cost: 5000, segmentWhere: segment, from, to: TODAY });
    const loyal = new Set(customers.filter((c) => placed().filter((o) => o.customer === c).length >= 3));
    const revenue = placed()
      .filter((o) => loyal.has(o.customer) && o.day >= from)
      .reduce((s, o) => s + o.amount, 0);
    expect(report).toMatchObject({ revenue, roas: revenue / 5000 });
    await expect(kokyaku.analytics.campaignReport(ctx(), { cost: 0, revenue: 1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('metrics as orders arrive', () => {
  it('are current right after an order is recorded, scores included', async () => {
    await kokyaku.orders.record(ctx(), [
      { externalId: 'live-1', customerExternalId: 'live', placedAt: '2026-06-01T00:00:00Z', lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 1000 }] },
    ]);
    let live = (await kokyaku.customers.findByExternalId(ctx(), 'live'))!.metrics;
    expect(live).toMatchObject({ ordersCount: 1, totalSpent: 1000, averageDaysBetweenOrders: null, isRepeatCustomer: false });
    expect(live.rfm.group).not.toBe('PROSPECTS');
    await kokyaku.orders.record(ctx(), [
      { externalId: 'live-2', customerExternalId: 'live', placedAt: '2026-06-11T00:00:00Z', lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 500_000 }] },
    ]);
    live = (await kokyaku.customers.findByExternalId(ctx(), 'live'))!.metrics;
    expect(live).toMatchObject({ ordersCount: 2, totalSpent: 501_000, averageDaysBetweenOrders: 10, isRepeatCustomer: true, decile: 1 });
    expect(live.rfm.monetary).toBe(5);
  });
});

describe('refresh schedule', () => {
  it('skips a round while another server holds the refresh', async () => {
    const { scheduleRefresh } = await import('@kokyaku/core');
    const pg = (await import('pg')).default;
    const other = new pg.Client({ connectionString: kokyaku.databaseUrl });
    await other.connect();
    const done: unknown[] = [];
    const schedule = scheduleRefresh(kokyaku, { intervalMs: 3_600_000, onDone: (result) => done.push(result) });
    try {
      await other.query(`select pg_advisory_lock(hashtext('kokyaku.refresh'))`);
      expect(await schedule.runNow()).toBe(false);
      await other.query(`select pg_advisory_unlock(hashtext('kokyaku.refresh'))`);
      expect(await schedule.runNow()).toBe(true);
      expect(done).toEqual([expect.objectContaining({ tenants: 1 })]);
    } finally {
      schedule.stop();
      await other.end();
    }
  });
});

const CDNOW = new URL('../../../../shared/datasets/cdnow_sample.txt', import.meta.url);

describe.skipIf(!existsSync(CDNOW))('CLV on the CDNOW sample recorded as orders', () => {
  it('fits the published BG/NBD and Gamma-Gamma parameters from the database within 1%', async () => {
    const cdnow = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'USD', timeZone: 'UTC' } });
    try {
      const rows = parseCdnow(readFileSync(CDNOW, 'utf8'));
      const c = cdnow.context();
      const inputs = rows.map((row, i) => ({
        externalId: `cd-${i}`,
        customerExternalId: `cd-${row.customer}`,
        placedAt: `${row.date.slice(0, 4)}-${row.date.slice(4, 6)}-${row.date.slice(6, 8)}T12:00:00Z`,
        lines: [{ productExternalId: 'cd', quantity: 1, unitPrice: row.value }],
      }));
      for (let i = 0; i < inputs.length; i += 5000) expect((await cdnow.orders.record(c, inputs.slice(i, i + 5000))).failed).toBe(0);
      const model = await cdnow.analytics.refreshClv(c, { calibrationEnd: '1997-09-30' });
      expect(model).not.toBeNull();
      const near = (actual: number, published: number) => expect(Math.abs(actual / published - 1), `${actual} vs ${published}`).toBeLessThan(0.01);
      near(model!.bgnbd.r, 0.243);
      near(model!.bgnbd.alpha, 4.414);
      near(model!.bgnbd.a, 0.793);
      near(model!.bgnbd.b, 2.426);
      near(model!.bgnbd.logLikelihood, -9582.4);
      near(model!.gammaGamma.p, 6.25);
      near(model!.gammaGamma.q, 3.74);
      near(model!.gammaGamma.gamma, 15.44);
      expect(model!.gammaGamma.customers).toBe(946);
      const customer = await cdnow.customers.findByExternalId(c, 'cd-00004');
      expect(customer!.metrics.predictedClv).toBeGreaterThan(0);
      expect(customer!.metrics.churnRisk).toBeGreaterThanOrEqual(0);
      expect(customer!.metrics.churnRisk).toBeLessThanOrEqual(1);
    } finally {
      await cdnow.close();
    }
  }, 120_000);
});

describe('figures at the edge of what a float holds', () => {
  it('refreshes a shop whose most frequent buyer is long gone (a probability alive far below 1e-38, the smallest real)', async () => {
    const gone = (): KokyakuContext => kokyaku.context({ tenantId: 'long-gone' });
    const c = gone();
    const day = (d: number) => new Date(Date.parse('2024-01-01T10:00:00Z') + d * 86_400_000).toISOString();
    const inputs: OrderInput[] = [];
    // 150 ordinary customers buying now and then over two years...
    for (let i = 0; i < 150; i++) {
      for (let k = 0; k < 1 + (i % 4); k++)
        inputs.push({
          externalId: `o-${i}-${k}`,
          customerExternalId: `c-${i}`,
          placedAt: day(((i * 37 + k * 170) % 700) + 1),
          lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 1000 }],
        });
    }
    // ...and one who bought every day for a year, then never again.
    for (let k = 0; k < 365; k++)
      inputs.push({ externalId: `binge-${k}`, customerExternalId: 'binge', placedAt: day(k - 730), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 500 }] });
    expect((await kokyaku.orders.record(c, inputs)).failed).toBe(0);
    await kokyaku.refresh({ now: new Date('2026-01-01T00:00:00Z') });
    const binge = (await kokyaku.customers.findByExternalId(c, 'binge'))!;
    expect(binge.metrics.probabilityAlive).not.toBeNull();
    expect(binge.metrics.probabilityAlive!).toBeLessThan(1e-38);
    expect(binge.metrics.churnRisk).toBe(1);
  }, 60_000);
});
