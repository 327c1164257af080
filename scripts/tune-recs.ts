/**
 * `npx tsx --conditions=@kokyaku/source scripts/tune-recs.ts [groceries.csv]`: the FOR_CUSTOMER
 * hit rate on the Groceries replay over a grid of the recommendation settings, to choose the
 * defaults (docs/recommendations.md reports what it showed).
 */
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import { loadGroceries } from './groceries.js';

const { orders } = loadGroceries(process.argv[2]);
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'USD', timeZone: 'UTC' } });
try {
  const ctx = kokyaku.context();
  for (let i = 0; i < orders.length; i += 5000) await kokyaku.orders.record(ctx, orders.slice(i, i + 5000));
  const settings = kokyaku.config.recommendations;
  const grid = (process.env.TUNE_GRID ?? 'popularityWeight=0.1,0.3,0.5,0.7;repeatWeight=0,0.5,1;recencyHalfLifeDays=30').split(';').map((part) => {
    const [key, values] = part.split('=');
    return { key: key as keyof typeof settings, values: values!.split(',').map((v) => (v === 'true' ? true : v === 'false' ? false : Number(v))) };
  });
  const combos = grid.reduce<Record<string, unknown>[]>((acc, { key, values }) => acc.flatMap((c) => values.map((v) => ({ ...c, [key]: v }))), [{}]);
  process.stdout.write(`| ${grid.map((g) => g.key).join(' | ')} | hit rate | recall | NDCG |\n`);
  for (const combo of combos) {
    Object.assign(settings, combo);
    const e = await kokyaku.recommendations.evaluate(ctx, { k: 10, sample: 1_000_000, strategies: ['FOR_CUSTOMER'] });
    const r = e.rows[0]!;
    process.stdout.write(`| ${grid.map((g) => String(combo[g.key])).join(' | ')} | ${r.hitRate.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.ndcg.toFixed(3)} |\n`);
  }
} finally {
  await kokyaku.close();
  await server.stop();
}
