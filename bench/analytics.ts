import type { Kokyaku } from '@kokyaku/core';
import { percentile, time } from './stats.js';

export interface ReportTiming {
  name: string;
  /** Where the report comes from in Kokyaku. */
  source: string;
  p50Ms: number;
  p95Ms: number;
  /** The same report computed from the orders (the RFM grid: from every customer's facts and scores), as every report was before the rollups. */
  fromOrdersMs: number | null;
}

/**
 * Analytics over the seeded shop: the batch steps timed once, beside a plain sequential aggregate
 * over the same customer facts as the machine's yardstick in this run; then each report as the
 * dashboard asks for it, `rounds` times (p50, p95), against the same report computed from the
 * orders in the same run.
 */
export async function benchAnalytics(kokyaku: Kokyaku, options: { rounds: number }, log: (line: string) => void) {
  const ctx = kokyaku.context();
  const knex = kokyaku.orm.em.getKnex();
  const steps: { name: string; ms: number }[] = [];
  const step = async (name: string, fn: () => Promise<unknown>) => {
    const ms = await time(fn);
    steps.push({ name, ms });
    log(`  ${name}: ${(ms / 1000).toFixed(2)} s`);
  };
  await step('yardstick: sum over all customer facts', () => knex.raw('select sum(total_spent_minor), count(*) from kokyaku.customer_facts'));
  await step('refresh, first (scores every customer, fits and applies the CLV models, builds the report rollups, vacuums)', () => kokyaku.refresh());
  await step('refresh again (nothing changed since: what moves with the date is recomputed, the rebuilds are skipped)', () => kokyaku.refresh());
  await step('report rollups alone, built again from the orders', () => kokyaku.analytics.rebuildRollups(ctx));
  await step('RFM scores, groups and deciles alone (cut points + scoring, nothing changed)', () => kokyaku.analytics.refreshScores(ctx));

  const a = kokyaku.analytics;
  const reports: ReportTiming[] = [];
  const report = async (name: string, source: string, run: () => Promise<unknown>, fromOrders: (() => Promise<unknown>) | null) => {
    await run(); // warm
    const samples: number[] = [];
    for (let i = 0; i < options.rounds; i++) samples.push(await time(run));
    const fromOrdersMs = fromOrders ? await time(fromOrders) : null;
    const r: ReportTiming = { name, source, p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95), fromOrdersMs };
    reports.push(r);
    log(`  ${name}: p50 ${r.p50Ms.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms${fromOrdersMs === null ? '' : `; from the orders ${fromOrdersMs.toFixed(0)} ms`}`);
  };
  await report(
    'KPI report, 12 months by month',
    'rollups',
    () => a.kpiReport(ctx, { period: 'MONTH' }),
    () => a.kpiReport(ctx, { period: 'MONTH', source: 'orders' }),
  );
  await report(
    'KPI report, last month by day',
    'rollups',
    () => a.kpiReport(ctx, { period: 'DAY' }),
    () => a.kpiReport(ctx, { period: 'DAY', source: 'orders' }),
  );
  await report(
    'cohort report, last 12 months',
    'rollups',
    () => a.cohortReport(ctx),
    () => a.cohortReport(ctx, { source: 'orders' }),
  );
  await report(
    'repeat purchase report',
    'rollups',
    () => a.repeatPurchaseReport(ctx),
    () => a.repeatPurchaseReport(ctx, { source: 'orders' }),
  );
  await report(
    'RFM grid report',
    'rollups',
    () => a.rfmReport(ctx),
    () => a.rfmReport(ctx, { source: 'orders' }),
  );
  await report(
    'decile report, last 12 months',
    'rollups',
    () => a.decileReport(ctx),
    () => a.decileReport(ctx, { source: 'orders' }),
  );
  return { steps, reports };
}
