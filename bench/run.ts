import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import { benchAnalytics } from './analytics.js';
import { type RecommendationBench, benchRecommendations } from './recommendations.js';
import { benchSearch } from './search.js';
import { benchSegments } from './segments.js';
import { seedShop } from './seed.js';
import { ms } from './stats.js';

/**
 * `pnpm bench [--scale 0.01] [--rounds 15]`: seeds a deterministic shop (scale 1 = 1,000,000
 * customers, 3,000,000 orders, 10,000,000 order lines) into a fresh PostgreSQL (embedded, or the
 * server of DATABASE_URL) and runs the benchmarks, each against a baseline measured in the same
 * run. Writes bench/results.json and bench/results.md.
 */
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '15' },
    'baseline-rounds': { type: 'string', default: '3' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write('usage: pnpm bench [--scale 1] [--rounds 15] [--baseline-rounds 3] [--only segments,analytics,search,recommendations] [--keep]\n  --keep  leave the seeded database running afterwards (prints its URL) for EXPLAIN and friends\n');
  process.exit(0);
}
const scale = Number(values.scale);
if (!(scale > 0 && scale <= 10)) throw new Error('--scale must be a number in (0, 10]');
const log = (line: string) => process.stdout.write(`${line}\n`);
const customers = Math.round(1_000_000 * scale);

const server = await startTestPostgres(process.env, {
  shared_buffers: '1GB',
  work_mem: '64MB',
  maintenance_work_mem: '512MB',
  max_wal_size: '4GB',
  synchronous_commit: 'off',
  // The data fits in memory: random reads cost about what sequential ones do.
  random_page_cost: 1.1,
  effective_cache_size: '4GB',
});
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
try {
  log(`Seeding ${customers.toLocaleString('en')} customers (scale ${scale})`);
  const seeded = await seedShop(kokyaku, { customers }, log);
  const wants = (name: string) => !values.only || values.only.split(',').includes(name);
  log('Analytics');
  const analytics = wants('analytics') ? await benchAnalytics(kokyaku, log) : [];
  log('Segment count: Kokyaku vs the same filter aggregated on the fly from order lines');
  const segments = wants('segments') ? await benchSegments(kokyaku, { rounds: Number(values.rounds), baselineRounds: Number(values['baseline-rounds']) }, log) : [];
  log('Customer search: Kokyaku vs a plain ILIKE scan');
  const search = wants('search') ? await benchSearch(kokyaku, { customers, rounds: Math.max(20, Number(values.rounds) * 3), baselineRounds: Number(values['baseline-rounds']) }, log) : [];
  log('Recommendations');
  const recommendations: RecommendationBench = wants('recommendations')
    ? await benchRecommendations(
        kokyaku,
        { customers, lookups: 500, baselineLookups: Math.max(5, Number(values['baseline-rounds']) * 5), incrementalOrders: Math.max(2000, Math.round(40_000 * Math.min(1, scale * 10))) },
        log,
      )
    : { rows: [], raw: {} };

  const results = { date: new Date().toISOString(), node: process.version, scale, customers, ...seeded, segments, analytics, search, recommendations: recommendations.raw };
  await mkdir(new URL('.', import.meta.url), { recursive: true });
  await writeFile(new URL('results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  const table = [
    `# Benchmark results (${results.date.slice(0, 10)}, ${customers.toLocaleString('en')} customers, ${seeded.lines.toLocaleString('en')} order lines)`,
    '',
    '| segment count | customers | Kokyaku p50 | Kokyaku p95 | on the fly p50 | ratio |',
    '|---|---:|---:|---:|---:|---:|',
    ...segments.map((s) => `| ${s.name} | ${s.count} | ${ms(s.kokyakuP50Ms)} | ${ms(s.kokyakuP95Ms)} | ${ms(s.onTheFlyP50Ms)} | ${s.speedup.toFixed(0)}x |`),
    '',
    '| analytics step | time | x yardstick |',
    '|---|---:|---:|',
    ...analytics.map((a) => `| ${a.name} | ${(a.ms / 1000).toFixed(2)} s | ${(a.ms / analytics[0]!.ms).toFixed(1)} |`),
    '',
    '| customer search | e.g. | matches | Kokyaku p50 | Kokyaku p95 | ILIKE scan p50 | ratio |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...search.map((s) => `| ${s.name} | ${s.example} | ${s.matches} | ${ms(s.kokyakuP50Ms)} | ${ms(s.kokyakuP95Ms)} | ${ms(s.scanP50Ms)} | ${s.speedup.toFixed(0)}x |`),
    '',
    '| recommendations | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...recommendations.rows.map((r) => `| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio} |`),
    '',
  ].join('\n');
  await writeFile(new URL('results.md', import.meta.url), table);
  log(`\n${table}`);
} finally {
  if (values.keep) {
    log(`\nThe seeded database stays up until Ctrl-C: ${kokyaku.databaseUrl}`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
  await kokyaku.close();
  await server.stop();
}
