import { type Kokyaku, createKokyaku, sql } from '@kokyaku/core';
import { loyaltyPlugin } from '@kokyaku/example-plugin-loyalty';
import { ms, percentile, time } from './stats.js';

/**
 * What a plugin costs, with the loyalty plugin (examples/plugin-loyalty) on the seeded shop:
 *
 * - ingestion: recording new orders with the plugin's orderRecorded hook (points booked in the
 *   orders' transaction) against the same kind of orders recorded by an instance without plugins,
 *   three rounds each in turn;
 * - segments: counting `points_balance >= 100` (a plugin attribute: a subquery per customer over
 *   the plugin's table) against `amount_spent >= 10000`, the core attribute that selects about the
 *   same customers (1 point per ¥100).
 */
export interface PluginBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

const secs = (n: number) => `${(n / 1000).toFixed(2)} s`;

export async function benchPlugins(kokyaku: Kokyaku, options: { orders: number; rounds: number }, log: (line: string) => void): Promise<PluginBenchRow[]> {
  const loyalty = loyaltyPlugin({ pointsPerUnit: 0.01, expiryDays: 365 });
  // The same database, a second instance with the plugin (its migration runs now), and a third
  // with the plugin's hook but not its scoring rule (a shop without rules scores nothing; the
  // plugin's rule makes every batch score its customers).
  const on = (plugin: typeof loyalty) => createKokyaku({ ...kokyaku.config, database: { ...kokyaku.config.database, url: kokyaku.databaseUrl }, plugins: [plugin] });
  const withPlugin = await on(loyalty);
  // The hook's own time, summed over the hook-only rounds.
  let hookMs = 0;
  const hooked = loyalty.hooks!.orderRecorded!;
  const hookOnly = await on({
    ...loyalty,
    scoringRules: [],
    hooks: {
      ...loyalty.hooks,
      orderRecorded: async (c, o, k) => {
        const started = performance.now();
        await hooked(c, o, k);
        hookMs += performance.now() - started;
      },
    },
  });
  try {
    const rows: PluginBenchRow[] = [];
    const points = withPlugin.plugin(loyalty);
    const ctx = withPlugin.context({ actor: { id: 'bench', roles: ['ADMIN'] } });

    // Points for the shop's history first, so that points_balance means something.
    let orders = 0;
    const backfill = await time(async () => {
      orders = await points.backfill(ctx);
    });
    log(`  points for ${orders.toLocaleString('en')} past orders booked in ${secs(backfill)}`);

    const record = async (instance: Kokyaku, tag: string) =>
      time(async () => {
        const c = instance.context();
        for (let b = 0; b < options.orders / 100; b++) {
          await instance.orders.record(
            c,
            Array.from({ length: 100 }, (_, k) => ({
              externalId: `plg-${tag}-${b}-${k}`,
              customerExternalId: `plg-${tag}-c${(b * 100 + k) % 500}`,
              placedAt: new Date(Date.UTC(2026, 9, 1, 0, b)),
              lines: [{ productExternalId: 'P-000001', quantity: 1 + (k % 3), unitPrice: 1800 }],
            })),
          );
        }
      });
    // Three rounds each, taking turns (the first round of either warms the caches for both).
    const withoutRounds: number[] = [];
    const withRounds: number[] = [];
    const hookRounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      withoutRounds.push(await record(kokyaku, `base${round}`));
      hookRounds.push(await record(hookOnly, `loyaltyhook${round}`));
      withRounds.push(await record(withPlugin, `loyalty${round}`));
    }
    const [without, withHook, hook] = [percentile(withoutRounds, 50), percentile(withRounds, 50), percentile(hookRounds, 50)];
    const booked = await sql<{ n: number }>(
      ctx.em,
      `select count(*)::int as n from kokyaku.loyalty_ledger where tenant_id = $1 and order_id in (select id from kokyaku.orders where tenant_id = $1 and external_id like 'plg-loyalty%')`,
      [ctx.tenantId],
    );
    if (booked[0]!.n !== 6 * options.orders) throw new Error(`${booked[0]!.n} orders earned points, not ${6 * options.orders}`);
    rows.push({
      name: `${options.orders.toLocaleString('en')} new orders (batches of 100), each earning points: the hook alone (median of 3 rounds)`,
      kokyaku: `${secs(hook)} (the hook itself: ${ms(hookMs / (3 * Math.ceil(options.orders / 100)))} a batch)`,
      baseline: `${secs(without)} (no plugin, rounds taken in turn)`,
      ratio: `${(without / hook).toFixed(2)}x`,
    });
    rows.push({
      name: `the same with the whole plugin (the hook, and its scoring rule scoring each batch's customers)`,
      kokyaku: secs(withHook),
      baseline: `${secs(without)} (no plugin)`,
      ratio: `${(without / withHook).toFixed(2)}x`,
    });
    const batches = 3 * Math.ceil(options.orders / 100);
    log(
      `  orders with the loyalty hook ${secs(hook)}, with the whole plugin ${secs(withHook)}, without ${secs(without)}; the hook itself ${ms(hookMs / batches)} per batch of 100`,
    );

    const count = (query: string) => withPlugin.segments.count(ctx, query);
    const plugin = 'points_balance >= 100';
    const core = 'amount_spent >= 10000';
    const [pluginCount, coreCount] = [await count(plugin), await count(core)];
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < options.rounds; i++) {
      ours.push(await time(() => count(plugin)));
      theirs.push(await time(() => count(core)));
    }
    const [p50, base50] = [percentile(ours, 50), percentile(theirs, 50)];
    rows.push({
      name: `segment count \`${plugin}\` (${pluginCount.toLocaleString('en')} customers)`,
      kokyaku: `${ms(p50)} p50`,
      baseline: `${ms(base50)} p50: \`${core}\`, a core attribute (${coreCount.toLocaleString('en')} customers)`,
      ratio: `${(base50 / p50).toFixed(2)}x`,
    });
    log(`  ${plugin}: ${ms(p50)} (${pluginCount}), ${core}: ${ms(base50)} (${coreCount})`);
    return rows;
  } finally {
    await withPlugin.close();
    await hookOnly.close();
  }
}
