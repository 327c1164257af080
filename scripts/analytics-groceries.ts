/**
 * `pnpm analytics:groceries`: records the Groceries dataset as a shop's orders (each member and
 * date one order, each row a line of quantity 1 at its Cost) in a fresh PostgreSQL, runs
 * `refresh` as of the day after the last basket, and prints the RFM groups, the decile table,
 * the cohorts and the CLV model. Reads ../shared/datasets/groceries.csv or the given file.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';

const file = process.argv[2] ?? path.resolve(import.meta.dirname, '../../shared/datasets/groceries.csv');
if (!existsSync(file)) {
  process.stderr.write(`No groceries.csv at ${file}; pass its path: pnpm analytics:groceries <file>\n`);
  process.exit(1);
}
const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };
const baskets = new Map<string, { member: string; day: string; lines: { item: string; cost: number }[] }>();
for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
  const [member, date, item, cost] = line.trim().split(',');
  if (!member || !date || !item || !cost) continue;
  const [d, mon, yy] = date.split('-');
  const day = `20${yy}-${MONTHS[mon!]}-${d!.padStart(2, '0')}`;
  const key = `${member}|${day}`;
  const basket = baskets.get(key) ?? { member, day, lines: [] };
  basket.lines.push({ item, cost: Number(cost) });
  baskets.set(key, basket);
}
const lastDay = [...baskets.values()].map((b) => b.day).sort().at(-1)!;

const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'USD', timeZone: 'UTC' } });
try {
  const ctx = kokyaku.context();
  const orders = [...baskets.values()].map((b) => ({
    externalId: `${b.member}-${b.day}`,
    customerExternalId: `member-${b.member}`,
    placedAt: `${b.day}T12:00:00Z`,
    lines: b.lines.map((l) => ({ productExternalId: l.item, quantity: 1, unitPrice: l.cost })),
  }));
  for (let i = 0; i < orders.length; i += 5000) await kokyaku.orders.record(ctx, orders.slice(i, i + 5000));
  const now = new Date(`${lastDay}T23:59:00Z`);
  const started = performance.now();
  await kokyaku.refresh({ now: new Date(now.getTime() + 86_400_000) });
  const out: string[] = [`Groceries: ${orders.length} baskets of ${new Set(orders.map((o) => o.customerExternalId)).size} members; refresh took ${((performance.now() - started) / 1000).toFixed(1)} s`, ''];

  const rfm = await kokyaku.analytics.rfmReport(ctx);
  out.push('RFM groups (as of the day after the last basket)', '  group              customers   revenue  share');
  for (const g of rfm.groups) out.push(`  ${g.group.padEnd(18)} ${String(g.customers).padStart(9)} ${g.revenue.toFixed(2).padStart(9)} ${(g.revenueShare * 100).toFixed(1).padStart(5)}%`);

  const deciles = await kokyaku.analytics.decileReport(ctx, { from: '2015-01-01', to: lastDay });
  out.push('', `Deciles of 2015 spend (${deciles.customers} customers, ${deciles.revenue.toFixed(2)})`, '  decile customers   revenue  share  cumulative');
  for (const d of deciles.deciles) {
    out.push(`  ${String(d.decile).padStart(6)} ${String(d.customers).padStart(9)} ${d.revenue.toFixed(2).padStart(9)} ${(d.share * 100).toFixed(1).padStart(5)}% ${(d.cumulativeShare * 100).toFixed(1).padStart(9)}%`);
  }

  const cohorts = await kokyaku.analytics.cohortReport(ctx, { from: '2014-01-01', to: lastDay });
  out.push('', 'Monthly cohorts: customers, then % ordering again in months +1 .. +6');
  for (const c of cohorts.cohorts) {
    const rate = (m: number) => `${((c.retention.find((r) => r.month === m)?.rate ?? 0) * 100).toFixed(0).padStart(3)}%`;
    out.push(`  ${c.cohort} ${String(c.customers).padStart(5)}  ${[1, 2, 3, 4, 5, 6].map(rate).join(' ')}`);
  }

  const repeat = await kokyaku.analytics.repeatPurchaseReport(ctx);
  out.push('', `Repeat rate ${(repeat.repeatRate * 100).toFixed(1)}% (${repeat.repeatCustomers}/${repeat.customers}); median ${repeat.medianDaysToSecondOrder?.toFixed(0)} days to the second order`);
  const model = await kokyaku.analytics.clvModel(ctx);
  if (model) {
    const b = model.bgnbd;
    const g = model.gammaGamma;
    out.push(`BG/NBD r=${b.r.toFixed(3)} alpha=${b.alpha.toFixed(3)} a=${b.a.toFixed(3)} b=${b.b.toFixed(3)}; Gamma-Gamma p=${g.p.toFixed(3)} q=${g.q.toFixed(3)} gamma=${g.gamma.toFixed(3)}`);
    for (const warning of model.warnings) out.push(`  warning: ${warning}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await kokyaku.close();
  await server.stop();
}
