import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TENANT_TABLES, createKokyaku } from '@kokyaku/core';
import { createTestDatabase, dropTestDatabase, startTestReplicaPair } from '@kokyaku/core/testing';
import { type Running, startServer, stopServer } from './http/process.js';
import { BENCH_TOKEN, CUSTOMER_360 } from './http/query.js';
import { percentile } from './stats.js';

/**
 * Beyond one machine (docs/scaling.md), measured on one:
 * - noisy neighbour: many shops, each asked for customer 360s, quiet, then while one shop
 *   imports a large CSV through `kokyaku import` (a process of its own), then quiet again: each
 *   shop's p95 while the neighbour imports against its p95 when all are quiet;
 * - read replicas: customer 360s from a server reading the primary alone against one reading a
 *   hot standby (Debian's PostgreSQL, a primary and a standby on this machine), with the CPU
 *   each process used.
 */
export interface NoisyNeighbourResult {
  tenants: number;
  customersPerTenant: number;
  importRows: number;
  /** Every shop's requests in the quiet rounds (before, between and after the imports). */
  quiet: { requests: number; p50Ms: number; p95Ms: number };
  /**
   * The noise floor: each shop's p95 in the second quiet round against its p95 in the others
   * (nothing imports in either). A 30 s round has fewer requests per shop than an import's, so
   * this is, if anything, noisier than the rounds below.
   */
  control: Ratio;
  /** While one shop imports at share 1 (full speed), another at 0.5, another at 0.25. */
  importing: ImportingRound[];
  failed: number;
}

interface Ratio {
  median: number;
  p90: number;
  max: number;
  over: number;
  shops: number;
}

interface ImportingRound {
  share: number;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  importSeconds: number;
  /** Per shop: p95 while the neighbour imports / its p95 in the quiet rounds. */
  ratio: Ratio;
}

/** The import shares the noisy-neighbour benchmark measures, one round each. */
const IMPORT_SHARES = [1, 0.5, 0.25] as const;

export interface ReplicaThroughputRow {
  reads: 'primary alone' | 'one replica';
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** CPU seconds per second of load: the server process, the primary's PostgreSQL, the standby's. */
  cpu: { server: number; primary: number; standby: number };
  failed: number;
}

const root = path.resolve(import.meta.dirname, '..');
const ALL = { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' };

/**
 * Shops `shop-001`... with `perTenant` customers each, 2 orders of 3 lines per customer, 50 products
 * per shop. The first shop is written with SQL and refreshed (`kokyaku.refresh`); the others are
 * copies of it, every tenant table copied row for row under another `tenant_id` (keys carry
 * `tenant_id`, so the ids stay): a first refresh of each would give the same rows, and 200 of them
 * take the better part of an hour on 2 cores.
 */
async function seedTenants(url: string, tenants: number, perTenant: number, log: (line: string) => void): Promise<void> {
  const kokyaku = await createKokyaku({ database: { url }, shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
  const knex = kokyaku.orm.em.getKnex();
  const timed = async (label: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    log(`    ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  try {
    await knex.transaction(async (trx) => {
      const step = (label: string, text: string, bindings: unknown[]) => timed(label, () => trx.raw(text, bindings as never[]));
      await trx.raw('set local session_replication_role = replica');
      await step(
        '50 products',
        `insert into kokyaku.products (tenant_id, external_id, name, price_minor, currency, categories)
         select 'shop-001', 'P' || p, 'Product ' || p, 300 + p * 37, 'JPY', array['cat' || (p % 5)]
         from generate_series(1, 50) p order by p`,
        [],
      );
      await step(
        `${perTenant.toLocaleString('en')} customers`,
        `insert into kokyaku.customers (tenant_id, external_id, email, first_name, last_name, created_at)
         select 'shop-001', 'C' || g, 'c' || g || '@shop.example', 'Given' || g, 'Family' || (g % 97), now() - (g % 700) * interval '1 day'
         from generate_series(1, ?::int) g order by g`,
        [perTenant],
      );
      // Fresh tables: ids follow the insertion order, which the lines below rely on.
      await step(
        `${(perTenant * 2).toLocaleString('en')} orders`,
        `insert into kokyaku.orders (tenant_id, external_id, customer_id, placed_at, currency, status, total_minor, lines_digest)
         select 'shop-001', 'O' || g || '-' || k, g, now() - ((g * 7 + k * 131) % 700) * interval '1 day', 'JPY', 'PLACED', 0, ''
         from generate_series(1, ?::int) g, generate_series(1, 2) k order by g, k`,
        [perTenant],
      );
      await step(
        `${(perTenant * 6).toLocaleString('en')} order lines`,
        `insert into kokyaku.order_lines (tenant_id, order_id, position, product_id, quantity, unit_price_minor)
         select o.tenant_id, o.id, l, 1 + (o.id * 7 + l * 13) % 50, 1 + l % 2, 300 + ((o.id * 7 + l * 13) % 50) * 37
         from kokyaku.orders o, generate_series(1, 3) l`,
        [],
      );
      await step(
        'order totals',
        `update kokyaku.orders o set total_minor = s.total
         from (select order_id, sum(quantity * unit_price_minor) as total from kokyaku.order_lines group by order_id) s
         where s.order_id = o.id and o.tenant_id = 'shop-001'`,
        [],
      );
    });
    await timed('refresh of shop-001', () => kokyaku.refresh());
    if (tenants > 1) {
      await timed(`copies of shop-001 as shop-002...shop-${String(tenants).padStart(3, '0')}, every tenant table`, () =>
        knex.transaction(async (trx) => {
          await trx.raw('set local session_replication_role = replica');
          // Parents first: the reverse of the erasure order.
          for (const table of [...TENANT_TABLES].reverse()) {
            const { rows } = await trx.raw<{ rows: { name: string }[] }>(
              `select a.attname as name from pg_attribute a
               where a.attrelid = ('kokyaku.' || quote_ident(?))::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
               order by a.attnum`,
              [table],
            );
            const columns = rows.map((r) => `"${r.name}"`);
            const values = columns.map((c) => (c === '"tenant_id"' ? `'shop-' || lpad(t::text, 3, '0')` : `s.${c}`));
            await trx.raw(
              `insert into kokyaku."${table}" (${columns.join(', ')}) overriding system value
               select ${values.join(', ')} from kokyaku."${table}" s, generate_series(2, ?::int) t where s.tenant_id = 'shop-001'`,
              [tenants],
            );
          }
        }),
      );
    }
    // As autovacuum leaves a table: hint bits and the visibility map set (a standby replays them).
    await timed('vacuum (analyze)', () => knex.raw('vacuum (analyze)'));
  } finally {
    await kokyaku.close();
  }
}

/** Customer 360s from `connections` loops, each request another shop and customer, until `until` resolves; latencies per shop. */
async function load(url: string, pick: (n: number) => { tenant: string; id: string }, connections: number, until: Promise<unknown>) {
  let stop = false;
  void until.finally(() => {
    stop = true;
  });
  const perTenant = new Map<string, number[]>();
  let failed = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!stop) {
        const { tenant, id } = pick(n++);
        const started = performance.now();
        try {
          const res = await fetch(url, { method: 'POST', headers: { ...ALL, 'x-shop': tenant }, body: JSON.stringify({ query: CUSTOMER_360, variables: { id } }) });
          const body = (await res.json()) as { data?: { customer: unknown }; errors?: unknown };
          if (!res.ok || body.errors || !body.data?.customer) failed++;
        } catch {
          failed++;
        }
        const list = perTenant.get(tenant) ?? [];
        list.push(performance.now() - started);
        perTenant.set(tenant, list);
      }
    }),
  );
  return { perTenant, failed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function summary(perTenant: Map<string, number[]>) {
  const all = [...perTenant.values()].flat();
  return { requests: all.length, p50Ms: percentile(all, 50), p95Ms: percentile(all, 95) };
}

export async function benchNoisyNeighbour(
  adminUrl: string,
  options: { tenants: number; customersPerTenant: number; importRows: number; quietSeconds: number; connections: number },
  log: (line: string) => void,
): Promise<NoisyNeighbourResult> {
  const { tenants, customersPerTenant: perTenant } = options;
  const url = await createTestDatabase(adminUrl);
  log(`  seeding ${tenants} shops x ${perTenant.toLocaleString('en')} customers (not a benchmark figure)`);
  await seedTenants(url, tenants, perTenant, log);
  const server = await startServer('tenants-kokyaku', 'Kokyaku, shops by header', url, 10);
  // The CSV the neighbour imports: `importRows` order lines (3 per order) for new customers of shop-001.
  const file = path.join(os.tmpdir(), `kokyaku-bench-noisy-${process.pid}.csv`);
  const rows = ['order_id,customer_id,order_date,sku,quantity,unit_price'];
  for (let i = 0; i < options.importRows; i++) {
    const o = Math.floor(i / 3);
    rows.push(
      `IMP-${o},IMPC-${o % Math.max(1, Math.floor(options.importRows / 6))},2026-0${1 + (o % 9)}-1${o % 10} 10:00,P${1 + ((o + i) % 50)},${1 + (i % 3)},${300 + (i % 50) * 37}`,
    );
  }
  await writeFile(file, `${rows.join('\n')}\n`);
  try {
    let k = 0;
    // Every request another shop (round robin) and a customer of it spread over its range.
    const pick = (n: number) => {
      const t = (n % tenants) + 1;
      const g = 1 + ((k++ * 7919) % perTenant);
      return { tenant: `shop-${String(t).padStart(3, '0')}`, id: String(g) };
    };
    log('  warm-up');
    await load(server.url, pick, options.connections, sleep(Math.min(10, options.quietSeconds) * 1000));
    log(`  quiet: ${options.quietSeconds} s`);
    const quiet = await load(server.url, pick, options.connections, sleep(options.quietSeconds * 1000));
    /** One shop imports the file (kokyaku import, its own process) while every shop is asked for profiles. */
    const importing = async (tenant: string, share: number) => {
      log(`  ${tenant} imports ${options.importRows.toLocaleString('en')} order lines at share ${share} meanwhile`);
      const started = performance.now();
      const importer = runImport(url, file, tenant, share);
      const during = await load(server.url, pick, options.connections, importer.done);
      const { code, stderr } = await importer.done;
      if (code !== 0) throw new Error(`kokyaku import failed (${code}): ${stderr}`);
      return { ...during, seconds: (performance.now() - started) / 1000 };
    };
    const quietRounds = [quiet];
    const rounds: { share: number; perTenant: Map<string, number[]>; failed: number; seconds: number }[] = [];
    for (const [i, share] of IMPORT_SHARES.entries()) {
      rounds.push({ share, ...(await importing(`shop-${String(Math.min(i + 1, tenants)).padStart(3, '0')}`, share)) });
      log(`  quiet again: ${options.quietSeconds} s`);
      quietRounds.push(await load(server.url, pick, options.connections, sleep(options.quietSeconds * 1000)));
    }
    const merged = (list: { perTenant: Map<string, number[]> }[]) => {
      const all = new Map<string, number[]>();
      for (const q of list) for (const [t, l] of q.perTenant) all.set(t, [...(all.get(t) ?? []), ...l]);
      return all;
    };
    const ratios = (during: Map<string, number[]>, calm: Map<string, number[]>): Ratio => {
      const list: number[] = [];
      for (const [tenant, latencies] of during) {
        const quietOnes = calm.get(tenant) ?? [];
        if (quietOnes.length >= 5 && latencies.length >= 5) list.push(percentile(latencies, 95) / percentile(quietOnes, 95));
      }
      return { median: percentile(list, 50), p90: percentile(list, 90), max: Math.max(...list), over: list.filter((r) => r > 1.5).length, shops: list.length };
    };
    const quietAll = merged(quietRounds);
    const result: NoisyNeighbourResult = {
      tenants,
      customersPerTenant: perTenant,
      importRows: options.importRows,
      quiet: summary(quietAll),
      control: ratios(quietRounds[1]!.perTenant, merged(quietRounds.filter((_, i) => i !== 1))),
      importing: rounds.map((r) => ({ share: r.share, ...summary(r.perTenant), importSeconds: r.seconds, ratio: ratios(r.perTenant, quietAll) })),
      failed: [...quietRounds, ...rounds].reduce((n, r) => n + r.failed, 0),
    };
    const f = (s: { requests: number; p50Ms: number; p95Ms: number }) => `${s.requests} requests, p50 ${s.p50Ms.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms`;
    const r = (x: Ratio) => `per shop p95 / quiet p95: median ${x.median.toFixed(2)}x, p90 ${x.p90.toFixed(2)}x, max ${x.max.toFixed(2)}x, ${x.over} of ${x.shops} shops over 1.5x`;
    log(`    all quiet:              ${f(result.quiet)}`);
    log(`    quiet against quiet:    ${r(result.control)}`);
    for (const round of result.importing) {
      log(`    importing, share ${String(round.share).padEnd(5)} ${f(round)}; import ${round.importSeconds.toFixed(1)} s; ${r(round.ratio)}`);
    }
    log(`    ${result.failed} failed requests`);
    return result;
  } finally {
    await stopServer(server.child);
    await rm(file, { force: true });
    await dropTestDatabase(adminUrl, url).catch(() => undefined);
  }
}

function runImport(url: string, file: string, tenant: string, share: number): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@kokyaku/source', '--import', 'tsx', path.join(root, 'packages/server/src/cli/main.ts'), 'import', 'orders', file, '--tenant', tenant, '--share', String(share)],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, KOKYAKU_CURRENCY: 'JPY', KOKYAKU_TIME_ZONE: 'Asia/Tokyo', TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))) };
}

/** CPU seconds (user + system) of a process and its children, the reaped ones included. */
function cpuOf(pid: number): number {
  const tick = 100;
  const stat = (p: number) => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
  let total = 0;
  const own = stat(pid);
  total += (Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) / tick;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = stat(Number(entry));
      if (Number(s[1]) === pid) total += (Number(s[11]) + Number(s[12])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export async function benchReplicaThroughput(
  options: { customers: number; seconds: number; rounds: number; connections: number },
  log: (line: string) => void,
): Promise<ReplicaThroughputRow[]> {
  const pair = await startTestReplicaPair();
  if (!pair) {
    log('  skipped: Debian PostgreSQL is not installed (apt-get install postgresql)');
    return [];
  }
  try {
    await pair.createDatabase('kokyaku');
    const url = pair.primaryUrl('kokyaku');
    log(`  seeding ${options.customers.toLocaleString('en')} customers into the primary (not a benchmark figure)`);
    await seedTenants(url, 1, options.customers, log);
    const servers: Record<ReplicaThroughputRow['reads'], Running> = {
      'primary alone': await startServer('tenants-kokyaku', 'primary alone', url, 10),
      'one replica': await startServer('tenants-kokyaku', 'one replica', url, 10, [pair.replicaUrl('kokyaku')]),
    };
    const pids = { primary: pair.pid('primary'), standby: pair.pid('standby') };
    const rows = new Map<
      ReplicaThroughputRow['reads'],
      { requests: number; latencies: number[]; seconds: number; cpu: { server: number; primary: number; standby: number }; failed: number }
    >();
    let k = 0;
    const pick = () => ({ tenant: 'shop-001', id: String(1 + ((k++ * 7919) % options.customers)) });
    for (const [name, server] of Object.entries(servers)) await load(server.url, pick, options.connections, sleep(2000)).then(() => log(`  warmed up: ${name}`));
    for (let round = 0; round < options.rounds; round++) {
      const order = (round % 2 === 0 ? ['primary alone', 'one replica'] : ['one replica', 'primary alone']) as ReplicaThroughputRow['reads'][];
      for (const name of order) {
        const server = servers[name];
        const before = { server: cpuOf(server.child.pid!), primary: cpuOf(pids.primary), standby: cpuOf(pids.standby) };
        const started = performance.now();
        const { perTenant, failed } = await load(server.url, pick, options.connections, sleep(options.seconds * 1000));
        const seconds = (performance.now() - started) / 1000;
        const after = { server: cpuOf(server.child.pid!), primary: cpuOf(pids.primary), standby: cpuOf(pids.standby) };
        const row = rows.get(name) ?? { requests: 0, latencies: [], seconds: 0, cpu: { server: 0, primary: 0, standby: 0 }, failed: 0 };
        const latencies = [...perTenant.values()].flat();
        row.requests += latencies.length;
        row.latencies.push(...latencies);
        row.seconds += seconds;
        row.failed += failed;
        for (const key of ['server', 'primary', 'standby'] as const) row.cpu[key] += after[key] - before[key];
        rows.set(name, row);
      }
    }
    for (const server of Object.values(servers)) await stopServer(server.child);
    const result = [...rows].map(([reads, r]) => ({
      reads,
      requestsPerSecond: r.requests / r.seconds,
      p50Ms: percentile(r.latencies, 50),
      p95Ms: percentile(r.latencies, 95),
      cpu: { server: r.cpu.server / r.seconds, primary: r.cpu.primary / r.seconds, standby: r.cpu.standby / r.seconds },
      failed: r.failed,
    }));
    for (const r of result) {
      log(
        `    ${r.reads.padEnd(14)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms; CPU s/s: server ${r.cpu.server.toFixed(2)}, primary ${r.cpu.primary.toFixed(2)}, standby ${r.cpu.standby.toFixed(2)}; ${r.failed} failed`,
      );
    }
    return result;
  } finally {
    await pair.stop();
  }
}
