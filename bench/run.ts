import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestKokyaku, startTestPostgres, startTestSmtp } from '@kokyaku/core/testing';
import { benchAnalytics } from './analytics.js';
import { type Customer360Result, benchCustomer360 } from './http/customer360.js';
import { type IngestionResult, benchIngestion } from './ingestion.js';
import { type ImportBenchResult, benchImport } from './import.js';
import { type RecommendationBench, benchRecommendations } from './recommendations.js';
import { type StorefrontResult, benchStorefront } from './http/storefront.js';
import { benchSearch } from './search.js';
import { type CrmBenchRow, benchCrm } from './crm.js';
import { type AutomationBenchRow, benchAutomation } from './automation.js';
import { type PluginBenchRow, benchPlugins } from './plugins.js';
import { type MailboxBenchRow, benchMailbox } from './mailbox.js';
import { type ConsoleBenchRow, benchConsole } from './console.js';
import { type VendureBenchRow, benchVendure } from './vendure.js';
import { benchMedusa } from './medusa.js';
import { type NoisyNeighbourResult, type ReplicaThroughputRow, benchNoisyNeighbour, benchReplicaThroughput } from './scaling.js';
import { SEGMENT_QUERIES, benchSegments } from './segments.js';
import { type StatementsResult, benchStatements } from './statements.js';
import { seedShop } from './seed.js';
import { ms } from './stats.js';

/**
 * `pnpm bench [--scale 0.01] [--rounds 15]`: seeds a deterministic shop (scale 1 = 1,000,000
 * customers, 3,000,000 orders, 10,000,000 order lines) into a fresh PostgreSQL (embedded, or the
 * server of DATABASE_URL) and runs the benchmarks, each against a baseline measured in the same
 * run. Writes bench/results.json and bench/results.md.
 */
const BENCHMARKS = [
  'analytics',
  'segments',
  'search',
  'customer360',
  'statements',
  'recommendations',
  'storefront',
  'ingestion',
  'import',
  'crm',
  'automation',
  'plugins',
  'mailbox',
  'console',
  'vendure',
  'medusa',
  'scaling',
] as const;
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '15' },
    'baseline-rounds': { type: 'string', default: '3' },
    only: { type: 'string' },
    'http-seconds': { type: 'string' },
    events: { type: 'string' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    [
      'usage: pnpm bench [--scale 1] [--rounds 15] [--baseline-rounds 3] [--only <names>] [--http-seconds 10] [--events 200000] [--out bench] [--keep]',
      `  --only          a comma-separated subset of ${BENCHMARKS.join(', ')}`,
      '  --http-seconds  length of each customer360 load round (default 10, 1 below scale 0.5)',
      '  --events        events per ingestion run (default 200,000 x scale, at least 2,000)',
      '  --out           folder for results.json and results.md (default bench/)',
      '  --keep          leave the seeded database running afterwards (prints its URL) for EXPLAIN and friends',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
const scale = Number(values.scale);
const only = values.only?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !(BENCHMARKS as readonly string[]).includes(name)) ?? [];
if (unknown.length) throw new Error(`--only: unknown benchmark ${unknown.join(', ')} (known: ${BENCHMARKS.join(', ')})`);
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
// A real SMTP server on this machine for the automation benchmark's mails.
const smtp = !only || only.includes('automation') ? await startTestSmtp() : null;
const kokyaku = await createTestKokyaku(server.adminUrl, {
  shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
  messaging: smtp ? { email: { smtp: smtp.url, from: 'bench@example.jp' } } : {},
});
try {
  // The scaling section seeds shops of its own: alone, it needs no seeded shop.
  const needsShop = !only || only.some((name) => name !== 'scaling');
  if (needsShop) log(`Seeding ${customers.toLocaleString('en')} customers (scale ${scale})`);
  const seeded = needsShop ? await seedShop(kokyaku, { customers }, log) : { orders: 0, lines: 0, products: 0 };
  // Saved segments, so that profiles list their segments and segment pages have members.
  if (needsShop) for (const q of SEGMENT_QUERIES) await kokyaku.segments.create(kokyaku.context(), { name: q.name, query: q.query });
  const wants = (name: (typeof BENCHMARKS)[number]) => !only || only.includes(name);
  // A benchmark that fails is reported and the others still run and are written: a full run takes
  // the best part of an hour. The run then exits with an error.
  const failed: { benchmark: string; error: string }[] = [];
  const section = async <T>(name: (typeof BENCHMARKS)[number], title: string, run: () => Promise<T>, skipped: T): Promise<T> => {
    if (!wants(name)) return skipped;
    log(title);
    const started = performance.now();
    try {
      const result = await run();
      log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`  (${name} FAILED after ${((performance.now() - started) / 1000).toFixed(1)} s: ${message})`);
      failed.push({ benchmark: name, error: error instanceof Error ? error.message : String(error) });
      return skipped;
    }
  };
  const rounds = Number(values.rounds);
  const baselineRounds = Number(values['baseline-rounds']);
  const big = scale >= 0.5;
  const analytics = await section('analytics', 'Analytics', () => benchAnalytics(kokyaku, { rounds: Math.max(rounds, 20) }, log), { steps: [], reports: [] });
  const segments = await section(
    'segments',
    'Segment count: Kokyaku vs the same filter aggregated on the fly from order lines',
    () => benchSegments(kokyaku, { rounds, baselineRounds }, log),
    [],
  );
  const search = await section(
    'search',
    'Customer search: Kokyaku vs a plain ILIKE scan',
    () => benchSearch(kokyaku, { customers, rounds: Math.max(20, rounds * 3), baselineRounds }, log),
    [],
  );
  const customer360: Customer360Result[] = await section(
    'customer360',
    'customer360 over HTTP: Kokyaku vs a hand-written Apollo + pg + DataLoader server and a bare node:http + pg server',
    () =>
      benchCustomer360(kokyaku, { seconds: Number(values['http-seconds'] ?? (big ? 10 : 1)), rounds: big ? 3 : 2, warmupSeconds: big ? 5 : 1, connections: 10, poolSize: 10 }, log),
    [],
  );
  const statements: StatementsResult[] = await section('statements', 'SQL statements per operation, page size small vs large', () => benchStatements(kokyaku, log), []);
  const recommendations: RecommendationBench = await section(
    'recommendations',
    'Recommendations',
    () =>
      benchRecommendations(
        kokyaku,
        {
          customers,
          products: seeded.products,
          lookups: 500,
          baselineLookups: Math.max(5, baselineRounds * 5),
          incrementalOrders: Math.max(1000, Math.round(40_000 * Math.min(1, scale))),
        },
        log,
      ),
    { rows: [], raw: {} },
  );
  const storefront: StorefrontResult[] = await section(
    'storefront',
    'Storefront recommendations over HTTP: Kokyaku (STOREFRONT, FOR_CUSTOMER, 10 items) vs a bare node:http + pg server returning the same list',
    () =>
      benchStorefront(kokyaku, { seconds: Number(values['http-seconds'] ?? (big ? 10 : 1)), rounds: big ? 3 : 2, warmupSeconds: big ? 5 : 1, connections: 10, poolSize: 10 }, log),
    [],
  );
  const events = Number(values.events ?? Math.max(2000, Math.round(200_000 * scale)));
  const ingestion: IngestionResult[] = await section(
    'ingestion',
    `Ingestion of ${events.toLocaleString('en')} events (10% repeated): trackEvents and the core API vs COPY`,
    () => benchIngestion(kokyaku, { events, customers, products: seeded.products, rounds: big ? 3 : 1 }, log),
    [],
  );

  // Recording orders into a shop of a million customers takes long: at most 30,000 lines, one round.
  const importLines = Math.max(6000, Math.min(30_000, Math.round(150_000 * scale)));
  const imports: ImportBenchResult[] = await section(
    'import',
    `CSV import of ${importLines.toLocaleString('en')} order lines vs recording the same orders from memory`,
    () => benchImport(kokyaku, { lines: importLines, rounds: 1 }, log),
    [],
  );

  const crmEvents = Math.max(2000, Math.round(20_000 * scale));
  const crm: CrmBenchRow[] = await section(
    'crm',
    'CRM records: timeline pages, company rollup, lead scoring on ingestion',
    () => benchCrm(kokyaku, { customers, products: seeded.products, rounds, events: crmEvents }, log),
    [],
  );

  const automation: AutomationBenchRow[] = await section(
    'automation',
    'Journeys: sends through journeys vs bare SMTP sends, the worker vs one by one, triggers on ingestion',
    () =>
      benchAutomation(kokyaku, smtp!, { runs: Math.max(200, Math.round(2000 * Math.min(1, scale * 10))), orders: Math.max(1000, Math.round(5000 * Math.min(1, scale * 10))) }, log),
    [],
  );

  const plugins: PluginBenchRow[] = await section(
    'plugins',
    'Plugins: the loyalty plugin on ingestion and in segments, against Kokyaku without it',
    () => benchPlugins(kokyaku, { orders: Math.max(1000, Math.round(5000 * Math.min(1, scale * 10))), rounds }, log),
    [],
  );

  const mailbox: MailboxBenchRow[] = await section(
    'mailbox',
    'Mailbox sync: the first pass over a Dovecot inbox against a bare fetch of the same messages',
    () => benchMailbox(kokyaku, { messages: Math.max(500, Math.min(5000, Math.round(5000 * scale))) }, log),
    [],
  );

  const consoleRows: ConsoleBenchRow[] = await section(
    'console',
    'Staff console in Chromium: initial load, phone number to profile, dashboard drawn, against the API alone',
    () => benchConsole(kokyaku, { lookups: Math.max(10, Math.min(40, rounds * 2)), dashboards: big ? 3 : 5 }, log),
    [],
  );

  const vendure: VendureBenchRow[] = await section(
    'vendure',
    "Vendure plugin: the history backfill of a real Vendure server's orders against orders.record of the same orders",
    () => benchVendure(server.adminUrl, { orders: Math.max(150, Math.min(3000, Math.round(3000 * scale))), batchSize: 500 }, log),
    [],
  );
  const medusa: VendureBenchRow[] = await section(
    'medusa',
    "Medusa plugin: the history backfill of a real Medusa application's orders against orders.record of the same orders",
    () => benchMedusa(server.adminUrl, { orders: Math.max(150, Math.min(3000, Math.round(3000 * scale))), batchSize: 500 }, log),
    [],
  );

  // Beyond one machine: 200 shops x 5,000 customers at scale 1 (at least 2 shops), one of them importing.
  const noisy: NoisyNeighbourResult | null = await section(
    'scaling',
    "Noisy neighbour: every shop's customer 360 p95 while one shop imports a CSV, against all quiet",
    () =>
      benchNoisyNeighbour(
        server.adminUrl,
        {
          tenants: Math.max(2, Math.round(200 * scale)),
          customersPerTenant: 5000,
          importRows: Math.max(3000, Math.round(100_000 * scale)),
          quietSeconds: big ? 30 : 3,
          connections: 10,
        },
        log,
      ),
    null,
  );
  const replicaReads: ReplicaThroughputRow[] = await section(
    'scaling',
    'Read replicas: customer 360 throughput reading one hot standby against the primary alone (Debian PostgreSQL, both on this machine)',
    () => benchReplicaThroughput({ customers: Math.max(5000, Math.min(200_000, Math.round(200_000 * scale))), seconds: big ? 10 : 2, rounds: big ? 3 : 1, connections: 10 }, log),
    [],
  );

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    scale,
    customers,
    ...seeded,
    segments,
    analytics,
    search,
    customer360,
    statements,
    recommendations: recommendations.raw,
    storefront,
    ingestion,
    imports,
    crm,
    automation,
    plugins,
    mailbox,
    console: consoleRows,
    vendure,
    medusa,
    noisyNeighbour: noisy,
    replicaReads,
    failed,
  };
  const out = values.out ? path.resolve(values.out) : fileURLToPath(new URL('.', import.meta.url));
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const kokyaku360 = customer360[0];
  const apollo360 = customer360[1];
  const copy = ingestion[0];
  const goal = (met: boolean) => (met ? 'met' : 'missed');
  const table = [
    `# Benchmark results (${results.date.slice(0, 10)}, ${customers.toLocaleString('en')} customers, ${seeded.orders.toLocaleString('en')} orders, ${seeded.lines.toLocaleString('en')} order lines, ${seeded.products.toLocaleString('en')} products, ${results.cpus} CPUs, Node ${process.version})`,
    ...failed.map((f) => `\n**${f.benchmark} failed:** ${f.error}`),
    '',
    '| customer360 over HTTP (10 connections) | req/s | p50 | p99 | x Apollo + pg + DataLoader | peak RSS | idle RSS |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...customer360.map(
      (r) =>
        `| ${r.server} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${(r.requestsPerSecond / apollo360!.requestsPerSecond).toFixed(2)}x | ${r.peakRssMb.toFixed(0)} MB | ${r.idleRssMb.toFixed(0)} MB |`,
    ),
    ...(kokyaku360 && apollo360
      ? [
          '',
          `Goals: Kokyaku >= 1.0x the hand-written Apollo server: ${(kokyaku360.requestsPerSecond / apollo360.requestsPerSecond).toFixed(2)}x, ${goal(kokyaku360.requestsPerSecond >= apollo360.requestsPerSecond)}; peak RSS <= 1.3x its: ${(kokyaku360.peakRssMb / apollo360.peakRssMb).toFixed(2)}x, ${goal(kokyaku360.peakRssMb <= 1.3 * apollo360.peakRssMb)}.`,
        ]
      : []),
    '',
    '| SQL statements per operation | small page | statements | large page | statements | equal |',
    '|---|---:|---:|---:|---:|---|',
    ...statements.map((r) => `| ${r.operation} | ${r.small} | ${r.smallStatements} | ${r.large} | ${r.largeStatements} | ${r.equal ? 'yes (met)' : 'no (missed)'} |`),
    '',
    '| segment count | customers | Kokyaku p50 | Kokyaku p95 | on the fly p50 | ratio |',
    '|---|---:|---:|---:|---:|---:|',
    ...segments.map((s) => `| ${s.name} | ${s.count} | ${ms(s.kokyakuP50Ms)} | ${ms(s.kokyakuP95Ms)} | ${ms(s.onTheFlyP50Ms)} | ${s.speedup.toFixed(0)}x |`),
    '',
    `| ingestion of ${events.toLocaleString('en')} events, 10% repeated | time | events/s | x COPY | stored | duplicates stored |`,
    '|---|---:|---:|---:|---:|---:|',
    ...ingestion.map(
      (r) =>
        `| ${r.path} | ${(r.ms / 1000).toFixed(2)} s | ${r.eventsPerSecond.toFixed(0)} | ${(copy!.ms / r.ms).toFixed(2)}x | ${r.stored.toLocaleString('en')} | ${r.duplicatesStored} |`,
    ),
    '',
    `| CSV import of ${importLines.toLocaleString('en')} order lines | time | lines/s | x orders.record |`,
    '|---|---:|---:|---:|',
    ...imports.map((r) => `| ${r.path} | ${(r.ms / 1000).toFixed(2)} s | ${r.linesPerSecond.toFixed(0)} | ${(imports[0]!.ms / r.ms).toFixed(2)}x |`),
    '',
    '| analytics step | time | x yardstick |',
    '|---|---:|---:|',
    ...analytics.steps.map((a) => `| ${a.name} | ${(a.ms / 1000).toFixed(2)} s | ${(a.ms / analytics.steps[0]!.ms).toFixed(1)} |`),
    '',
    '| report (as the dashboard asks) | from | p50 | p95 | computed from the orders | ratio | goal p95 <= 200 ms |',
    '|---|---|---:|---:|---:|---:|---|',
    ...analytics.reports.map(
      (r) =>
        `| ${r.name} | ${r.source} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${r.fromOrdersMs === null ? '-' : ms(r.fromOrdersMs)} | ${r.fromOrdersMs === null ? '-' : `${(r.fromOrdersMs / r.p50Ms).toFixed(0)}x`} | ${goal(r.p95Ms <= 200)} |`,
    ),
    '',
    '| customer search | e.g. | matches | Kokyaku p50 | Kokyaku p95 | ILIKE scan p50 | ratio |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...search.map((s) => `| ${s.name} | ${s.example} | ${s.matches} | ${ms(s.kokyakuP50Ms)} | ${ms(s.kokyakuP95Ms)} | ${ms(s.scanP50Ms)} | ${s.speedup.toFixed(0)}x |`),
    '',
    '| CRM records | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...crm.map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| journeys | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...automation.map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| plugins (loyalty) | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...plugins.map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| mailbox sync | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...mailbox.map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| staff console (Chromium) | Kokyaku | API alone | ratio |',
    '|---|---:|---|---:|',
    ...consoleRows.map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| shop backends | Kokyaku | baseline | ratio |',
    '|---|---:|---:|---:|',
    ...[...vendure, ...medusa].map((r) => `| ${r.name} | ${r.kokyaku} | ${r.baseline} | ${r.ratio} |`),
    '',
    ...(noisy
      ? [
          `| noisy neighbour (${noisy.tenants} shops x ${noisy.customersPerTenant.toLocaleString('en')} customers; one imports ${noisy.importRows.toLocaleString('en')} lines) | requests | p50 | p95 | import | shops' p95 / quiet p95: median, p90, max | shops over 1.5x |`,
          '|---|---:|---:|---:|---:|---|---:|',
          `| all quiet | ${noisy.quiet.requests} | ${ms(noisy.quiet.p50Ms)} | ${ms(noisy.quiet.p95Ms)} | | | |`,
          `| quiet against quiet (the noise floor) | | | | | ${noisy.control.median.toFixed(2)}x, ${noisy.control.p90.toFixed(2)}x, ${noisy.control.max.toFixed(2)}x | ${noisy.control.over} of ${noisy.control.shops} |`,
          ...noisy.importing.map(
            (r) =>
              `| one imports at share ${r.share}${r.share === 1 ? ' (full speed)' : ''} | ${r.requests} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${r.importSeconds.toFixed(1)} s | ${r.ratio.median.toFixed(2)}x, ${r.ratio.p90.toFixed(2)}x, ${r.ratio.max.toFixed(2)}x | ${r.ratio.over} of ${r.ratio.shops} |`,
          ),
          '',
          `Goal: no shop's p95 above 1.5x its quiet p95 while a neighbour imports: ${noisy.importing.map((r) => `share ${r.share} ${goal(r.ratio.over === 0)}`).join(', ')}; ${noisy.failed} failed requests.`,
          '',
        ]
      : []),
    ...(replicaReads.length
      ? [
          '| customer 360 reads (10 connections) | req/s | p50 | p95 | CPU s/s: server, primary, standby | failed |',
          '|---|---:|---:|---:|---|---:|',
          ...replicaReads.map(
            (r) =>
              `| ${r.reads} | ${r.requestsPerSecond.toFixed(0)} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${r.cpu.server.toFixed(2)}, ${r.cpu.primary.toFixed(2)}, ${r.cpu.standby.toFixed(2)} | ${r.failed} |`,
          ),
          '',
        ]
      : []),
    '| recommendations | Kokyaku | baseline | ratio |',
    '|---|---:|---|---:|',
    ...recommendations.rows.map((r) => `| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio} |`),
    '',
    '| storefront recommendations over HTTP (FOR_CUSTOMER, 10 items, 10 connections) | req/s | p50 | p99 | x bare | peak RSS |',
    '|---|---:|---:|---:|---:|---:|',
    ...storefront.map(
      (r) =>
        `| ${r.server} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${(r.requestsPerSecond / storefront[1]!.requestsPerSecond).toFixed(2)}x | ${r.peakRssMb.toFixed(0)} MB |`,
    ),
    ...(storefront.length === 2
      ? [
          '',
          `Goals: Kokyaku >= 0.7x the bare server: ${(storefront[0]!.requestsPerSecond / storefront[1]!.requestsPerSecond).toFixed(2)}x, ${goal(storefront[0]!.requestsPerSecond >= 0.7 * storefront[1]!.requestsPerSecond)}; p99 <= 20 ms: ${storefront[0]!.p99Ms} ms, ${goal(storefront[0]!.p99Ms <= 20)}.`,
        ]
      : []),
    '',
  ].join('\n');
  await writeFile(path.join(out, 'results.md'), table);
  log(`\n${table}`);
  if (failed.length) {
    log(`\nFailed: ${failed.map((f) => `${f.benchmark} (${f.error})`).join('; ')}`);
    process.exitCode = 1;
  }
} finally {
  if (values.keep) {
    log(`\nThe seeded database stays up until Ctrl-C: ${kokyaku.databaseUrl}`);
    // A timer keeps Node waiting (a pending promise alone does not).
    const alive = setInterval(() => {}, 60_000);
    await new Promise((resolve) => process.once('SIGINT', resolve));
    clearInterval(alive);
  }
  await kokyaku.close();
  await smtp?.close();
  await server.stop();
}
