/**
 * `pnpm recs:groceries`: records the Groceries dataset as orders in a fresh PostgreSQL and runs
 * the built-in offline evaluation (each member's last basket held out) over every member with a
 * held-out basket, printing hit rate, recall and NDCG at 10 per strategy.
 */
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import { loadGroceries } from './groceries.js';

const { orders } = loadGroceries(process.argv[2]);
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'USD', timeZone: 'UTC' } });
try {
  const ctx = kokyaku.context();
  for (let i = 0; i < orders.length; i += 5000) await kokyaku.orders.record(ctx, orders.slice(i, i + 5000));
  const started = performance.now();
  // What `refresh` does: the FOR_CUSTOMER blend with popularity measured on a sample.
  const tuned = await kokyaku.recommendations.tuneBlend(ctx);
  const evaluation = await kokyaku.recommendations.evaluate(ctx, { k: 10, sample: 1_000_000, blends: [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1] });
  const lines = [
    `Groceries: ${orders.length} baskets; ${evaluation.customers} of ${evaluation.eligibleCustomers} members with a held-out basket evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    '',
    '| strategy (top 10) | hit rate | recall | NDCG |',
    '|---|---:|---:|---:|',
    ...evaluation.rows.map(
      (r) =>
        `| ${r.strategy}${r.popularityWeight === undefined ? (r.strategy === 'FOR_CUSTOMER' ? ` (measured blend ${tuned?.popularityWeight})` : '') : ` at popularity weight ${r.popularityWeight}`} | ${r.hitRate.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.ndcg.toFixed(3)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await kokyaku.close();
  await server.stop();
}
