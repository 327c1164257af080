import type { OrderInput } from '@kokyaku/core';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';

/**
 * Records `orders` as a shop's history in a fresh PostgreSQL and runs the built-in offline
 * evaluation (each customer's last basket held out) over up to `sample` customers with a
 * held-out basket, printing hit rate, recall and NDCG at 10 per strategy and baseline, each
 * split into the items the customer had bought before (repeat) and new ones (explore).
 */
export async function evaluateHistory(name: string, orders: OrderInput[], options: { sample: number; currency: string }): Promise<void> {
  const server = await startTestPostgres();
  const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: options.currency, timeZone: 'UTC' } });
  try {
    const ctx = kokyaku.context();
    for (let i = 0; i < orders.length; i += 5000) await kokyaku.orders.record(ctx, orders.slice(i, i + 5000));
    const started = performance.now();
    // What `refresh` does: the FOR_CUSTOMER blend with popularity measured on a sample.
    const tuned = await kokyaku.recommendations.tuneBlend(ctx);
    const evaluation = await kokyaku.recommendations.evaluate(ctx, { k: 10, sample: options.sample });
    const named = [
      ...evaluation.rows.map((r) => ({
        ...r,
        name:
          r.strategy === 'FOR_CUSTOMER'
            ? `FOR_CUSTOMER (measured blend: popularity ${tuned?.popularity}, repeat ${tuned?.repeat}, cycles ${tuned?.cycles ? 'on' : 'off'})`
            : r.strategy,
      })),
      ...evaluation.baselines.map((r) => ({ ...r, name: `${r.baseline} (baseline)` })),
    ];
    const weights = [...new Set(tuned?.rows.map((r) => r.repeatWeight))];
    const lines = [
      `${name}: ${orders.length} baskets; ${evaluation.customers} of ${evaluation.eligibleCustomers} customers with a held-out basket evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      `Held-out items the customer had bought before (repeat): ${(evaluation.repeatShare * 100).toFixed(1)}%`,
      '',
      '| strategy (top 10) | hit rate | recall | NDCG | recall: repeat + explore | NDCG: repeat + explore |',
      '|---|---:|---:|---:|---:|---:|',
      ...named.map(
        (r) =>
          `| ${r.name} | ${r.hitRate.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.ndcg.toFixed(3)} | ${r.repeat.recall.toFixed(3)} + ${r.explore.recall.toFixed(3)} | ${r.repeat.ndcg.toFixed(3)} + ${r.explore.ndcg.toFixed(3)} |`,
      ),
      ...[false, true].flatMap((cycles) => [
        '',
        `The blend measured by tuneBlend (${tuned?.rows[0]?.customers ?? 0} customers), cycles ${cycles ? 'on' : 'off'}: hit rate / recall at 10 per popularity weight (rows) and repeat weight (columns)`,
        '',
        `| popularity \\ repeat | ${weights.join(' | ')} |`,
        `|---|${weights.map(() => '---:').join('|')}|`,
        ...[...new Set(tuned?.rows.map((r) => r.popularityWeight))].map(
          (p) =>
            `| ${p} | ${weights
              .map((w) => {
                const r = tuned?.rows.find((x) => x.popularityWeight === p && x.repeatWeight === w && x.cycles === cycles);
                return r ? `${r.hitRate.toFixed(3)} / ${r.recall.toFixed(3)}` : '';
              })
              .join(' | ')} |`,
        ),
      ]),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await kokyaku.close();
    await server.stop();
  }
}
