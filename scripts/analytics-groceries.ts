/**
 * `pnpm analytics:groceries`: records the Groceries dataset as a shop's orders (each member and
 * date one order, each row a line of quantity 1 at its Cost) in a fresh PostgreSQL, runs
 * `refresh` as of the day after the last basket, and prints the RFM groups, the decile table,
 * the cohorts and the CLV model. Reads ../shared/datasets/groceries.csv or the given file.
 */
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import { loadGroceries } from './groceries.js';

const { orders, lastDay } = loadGroceries(process.argv[2]);
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'USD', timeZone: 'UTC' } });
try {
  const ctx = kokyaku.context();
  for (let i = 0; i < orders.length; i += 5000) await kokyaku.orders.record(ctx, orders.slice(i, i + 5000));
  const now = new Date(`${lastDay}T23:59:00Z`);
  const started = performance.now();
  await kokyaku.refresh({ now: new Date(now.getTime() + 86_400_000) });
  const out: string[] = [
    `Groceries: ${orders.length} baskets of ${new Set(orders.map((o) => o.customerExternalId)).size} members; refresh took ${((performance.now() - started) / 1000).toFixed(1)} s`,
    '',
  ];

  const rfm = await kokyaku.analytics.rfmReport(ctx);
  out.push('RFM groups (as of the day after the last basket)', '  group              customers   revenue  share');
  for (const g of rfm.groups)
    out.push(`  ${g.group.padEnd(18)} ${String(g.customers).padStart(9)} ${g.revenue.toFixed(2).padStart(9)} ${(g.revenueShare * 100).toFixed(1).padStart(5)}%`);

  const deciles = await kokyaku.analytics.decileReport(ctx, { from: '2015-01-01', to: lastDay });
  out.push('', `Deciles of 2015 spend (${deciles.customers} customers, ${deciles.revenue.toFixed(2)})`, '  decile customers   revenue  share  cumulative');
  for (const d of deciles.deciles) {
    out.push(
      `  ${String(d.decile).padStart(6)} ${String(d.customers).padStart(9)} ${d.revenue.toFixed(2).padStart(9)} ${(d.share * 100).toFixed(1).padStart(5)}% ${(d.cumulativeShare * 100).toFixed(1).padStart(9)}%`,
    );
  }

  const cohorts = await kokyaku.analytics.cohortReport(ctx, { from: '2014-01-01', to: lastDay });
  out.push('', 'Monthly cohorts: customers, then % ordering again in months +1 .. +6');
  for (const c of cohorts.cohorts) {
    const rate = (m: number) => `${((c.retention.find((r) => r.month === m)?.rate ?? 0) * 100).toFixed(0).padStart(3)}%`;
    out.push(`  ${c.cohort} ${String(c.customers).padStart(5)}  ${[1, 2, 3, 4, 5, 6].map(rate).join(' ')}`);
  }

  const repeat = await kokyaku.analytics.repeatPurchaseReport(ctx);
  out.push(
    '',
    `Repeat rate ${(repeat.repeatRate * 100).toFixed(1)}% (${repeat.repeatCustomers}/${repeat.customers}); median ${repeat.medianDaysToSecondOrder?.toFixed(0)} days to the second order`,
  );
  const model = await kokyaku.analytics.clvModel(ctx);
  if (model) {
    const b = model.bgnbd;
    const g = model.gammaGamma;
    out.push(
      `BG/NBD r=${b.r.toFixed(3)} alpha=${b.alpha.toFixed(3)} a=${b.a.toFixed(3)} b=${b.b.toFixed(3)}; Gamma-Gamma p=${g.p.toFixed(3)} q=${g.q.toFixed(3)} gamma=${g.gamma.toFixed(3)}`,
    );
    for (const warning of model.warnings) out.push(`  warning: ${warning}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await kokyaku.close();
  await server.stop();
}
