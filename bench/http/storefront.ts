import { isDeepStrictEqual } from 'node:util';
import type { Kokyaku } from '@kokyaku/core';
import autocannon from 'autocannon';
import { type Running, ask, clean, interleavedRounds, startServer, stopServer } from './process.js';
import { SHOPPER_HEADER, STOREFRONT_QUERY } from './storefront-bare.js';

/**
 * Storefront recommendations over HTTP: "recommended for you" (FOR_CUSTOMER, 10 items) asked by a
 * signed-in shopper of a shop that mounts Kokyaku in its Express app (the STOREFRONT role), against
 * a bare node:http + pg server that returns the same list (storefront-bare.ts). Each request is
 * another shopper who ordered. Load as in customer360: a warm-up per server, then rounds in which
 * the servers take turns; the median round counts.
 */
export interface StorefrontResult {
  server: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
}

const SERVERS = [
  { kind: 'storefront-kokyaku', name: 'Kokyaku recommendations (STOREFRONT)' },
  { kind: 'storefront-bare', name: 'bare node:http + pg, same list' },
] as const;

async function askForYou(url: string, shopper: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SHOPPER_HEADER]: shopper },
    body: JSON.stringify({ query: STOREFRONT_QUERY }),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * The list as compared: the scores to 9 decimals, position by position, and the products with
 * their strategies within each run of equal scores, in any order. Scores decay with the moment of
 * each request (a few milliseconds apart), so items that tie exactly at one moment are a hair
 * apart at the other and may swap places; the last run may be cut at a different item; a reason
 * chosen between two parts that tie may differ (both servers compute it).
 */
function comparable(answer: unknown): string[][] {
  const list = (answer as { data?: { recommendations?: { score: number; strategy: string; product: unknown }[] } }).data?.recommendations ?? [];
  const runs: { score: number; items: string[] }[] = [];
  for (const r of list) {
    // A millionth: the scores move with the moment asked (recency), by about 1e-9 between two requests.
    const score = Math.round(r.score * 1e6);
    if (runs.at(-1)?.score !== score) runs.push({ score, items: [] });
    runs.at(-1)!.items.push(JSON.stringify([r.strategy, r.product]));
  }
  return runs.map((run, i) => [String(run.score), ...(i === runs.length - 1 && list.length === 10 ? [String(run.items.length)] : run.items.sort())]);
}

async function load(server: Running, shoppers: string[], seconds: number, connections: number) {
  let next = 0;
  const body = JSON.stringify({ query: STOREFRONT_QUERY });
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => ({ ...req, body, headers: { 'content-type': 'application/json', [SHOPPER_HEADER]: shoppers[next++ % shoppers.length]! } }),
      },
    ],
  });
  return clean(server, result);
}

export async function benchStorefront(
  kokyaku: Kokyaku,
  options: { seconds: number; rounds: number; warmupSeconds: number; connections: number; poolSize: number },
  log: (line: string) => void,
): Promise<StorefrontResult[]> {
  const knex = kokyaku.orm.em.getKnex();
  // Neighbour lists built (the recommendations section builds them), and none stale: Kokyaku would
  // recompute a stale list on its first read, the baseline reads what is stored.
  const built = (await knex.raw(`select exists (select 1 from kokyaku.product_neighbours) as built`)) as { rows: { built: boolean }[] };
  if (built.rows[0]?.built) await kokyaku.recommendations.catchUp(kokyaku.context());
  else await kokyaku.recommendations.rebuild(kokyaku.context());
  const { rows } = (await knex.raw(
    `select c.external_id from kokyaku.customers c join kokyaku.customer_facts f on f.customer_id = c.id
     where f.orders_count > 0 order by hashtext(c.id::text) limit 2000`,
  )) as { rows: { external_id: string }[] };
  const shoppers = rows.map((r) => r.external_id);
  const running: Running[] = [];
  try {
    for (const s of SERVERS) running.push(await startServer(s.kind, s.name, kokyaku.databaseUrl, options.poolSize));
    // The same list from both, or the comparison means nothing.
    for (const shopper of shoppers.slice(0, 50)) {
      const ours = await askForYou(running[0]!.url, shopper);
      const list = (ours as { data?: { recommendations?: unknown[] } }).data?.recommendations;
      if (!list?.length) throw new Error(`Kokyaku recommended nothing to ${shopper}: ${JSON.stringify(ours)}`);
      let bare = await askForYou(running[1]!.url, shopper);
      // Asked again once: two scores a hair apart can swap places between two moments.
      if (!isDeepStrictEqual(comparable(bare), comparable(ours))) bare = await askForYou(running[1]!.url, shopper);
      if (!isDeepStrictEqual(comparable(bare), comparable(ours)))
        throw new Error(`The bare server answers ${shopper} differently:\n${JSON.stringify(bare)}\nKokyaku:\n${JSON.stringify(ours)}`);
    }
    const rounds = await interleavedRounds(running, (s, seconds) => load(s, shoppers, seconds, options.connections), options, log);
    const results: StorefrontResult[] = [];
    for (const s of running) {
      const { requestsPerSecond, p50Ms, p99Ms } = rounds.get(s.kind)!;
      results.push({ server: s.name, requestsPerSecond, p50Ms, p99Ms, peakRssMb: (await ask<number>(s.child, 'rss', 'rss')) / 2 ** 20 });
    }
    log(`  peak RSS: ${results.map((r) => `${r.server} ${r.peakRssMb.toFixed(0)} MB`).join(', ')}`);
    return results;
  } finally {
    await Promise.all(running.map((s) => stopServer(s.child)));
  }
}
