import type { Kokyaku } from '@kokyaku/core';
import { time } from './stats.js';

/**
 * Analytics over the seeded shop: each step timed once (they are batch jobs), beside a plain
 * sequential aggregate over the same customer facts as the machine's yardstick in this run.
 */
export async function benchAnalytics(kokyaku: Kokyaku, log: (line: string) => void) {
  const ctx = kokyaku.context();
  const knex = kokyaku.orm.em.getKnex();
  const steps: { name: string; ms: number }[] = [];
  const step = async (name: string, fn: () => Promise<unknown>) => {
    const ms = await time(fn);
    steps.push({ name, ms });
    log(`  ${name}: ${(ms / 1000).toFixed(2)} s`);
  };
  await step('yardstick: sum over all customer facts', () => knex.raw('select sum(total_spent_minor), count(*) from kokyaku.customer_facts'));
  await step('refresh, first (scores every customer, fits and applies the CLV models, vacuums)', () => kokyaku.refresh());
  await step('refresh again (steady state: recompute everything, write what changed)', () => kokyaku.refresh());
  await step('RFM scores, groups and deciles alone (cut points + scoring, nothing changed)', () => kokyaku.analytics.refreshScores(ctx));
  await step('RFM grid report', () => kokyaku.analytics.rfmReport(ctx));
  await step('decile report, last 12 months', () => kokyaku.analytics.decileReport(ctx));
  await step('cohort report, last 12 months', () => kokyaku.analytics.cohortReport(ctx));
  await step('repeat purchase report', () => kokyaku.analytics.repeatPurchaseReport(ctx));
  await step('KPI report, 12 months by month', () => kokyaku.analytics.kpiReport(ctx, { period: 'MONTH' }));
  return steps;
}
