import { isDeepStrictEqual } from 'node:util';
import type { Kokyaku } from '@kokyaku/core';
import autocannon from 'autocannon';
import { type Running, ask, clean, interleavedRounds, startServer, stopServer } from './process.js';
import { BENCH_TOKEN, CUSTOMER_360, type ServerKind } from './query.js';

/**
 * customer360 over HTTP: Kokyaku's `/graphql` (the standalone server, production mode) against a
 * hand-written Apollo + pg + DataLoader server and a bare node:http + pg server, each in its own
 * process with the same pool size, all answering the same customer 360 query with the same JSON.
 * Load: autocannon at a fixed concurrency, a warm-up per server, then rounds that interleave the
 * servers (the order rotates each round) so that machine noise hits all three. Each request asks
 * for another customer. Memory: the peak RSS of each server process over its whole load.
 */
export interface Customer360Result {
  server: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  idleRssMb: number;
  requests: number;
}

const SERVERS: { kind: ServerKind; name: string }[] = [
  { kind: 'kokyaku', name: 'Kokyaku /graphql' },
  { kind: 'apollo', name: 'hand-written Apollo + pg + DataLoader' },
  { kind: 'bare', name: 'bare node:http + pg' },
];

async function post(url: string, id: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
    body: JSON.stringify({ query: CUSTOMER_360, variables: { id } }),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

async function load(server: Running, ids: string[], seconds: number, connections: number) {
  let next = 0;
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: CUSTOMER_360, variables: { id: ids[next++ % ids.length] } }) }),
      },
    ],
  });
  return clean(server, result);
}

export async function benchCustomer360(
  kokyaku: Kokyaku,
  options: { seconds: number; rounds: number; warmupSeconds: number; connections: number; poolSize: number },
  log: (line: string) => void,
): Promise<Customer360Result[]> {
  const knex = kokyaku.orm.em.getKnex();
  // Customers who ordered, spread over the whole table.
  const { rows } = (await knex.raw(`select customer_id::text as id from kokyaku.customer_facts where orders_count > 0 order by hashtext(customer_id::text) limit 2000`)) as {
    rows: { id: string }[];
  };
  const ids = rows.map((r) => r.id);
  const running: Running[] = [];
  try {
    for (const s of SERVERS) running.push(await startServer(s.kind, s.name, kokyaku.databaseUrl, options.poolSize));
    // The same JSON from all three, or the comparison means nothing.
    for (const id of ids.slice(0, 25)) {
      const [ours, ...baselines] = await Promise.all(running.map((s) => post(s.url, id)));
      const customer = (ours as { data?: { customer?: unknown } }).data?.customer;
      if (!customer) throw new Error(`Kokyaku returned no customer ${id}: ${JSON.stringify(ours)}`);
      baselines.forEach((b, i) => {
        if (!isDeepStrictEqual(b, ours)) {
          throw new Error(`${running[i + 1]!.name} answers customer ${id} differently:\n${JSON.stringify(b)}\nKokyaku:\n${JSON.stringify(ours)}`);
        }
      });
    }
    const idle = new Map<ServerKind, number>();
    for (const s of running) idle.set(s.kind, await ask<number>(s.child, 'rss', 'rss'));
    const rounds = await interleavedRounds(running, (s, seconds) => load(s, ids, seconds, options.connections), options, log);
    const results: Customer360Result[] = [];
    for (const s of running) {
      results.push({
        server: s.name,
        ...rounds.get(s.kind)!,
        peakRssMb: (await ask<number>(s.child, 'rss', 'rss')) / 2 ** 20,
        idleRssMb: idle.get(s.kind)! / 2 ** 20,
      });
    }
    log(`  peak RSS: ${results.map((r) => `${r.server} ${r.peakRssMb.toFixed(0)} MB (idle ${r.idleRssMb.toFixed(0)} MB)`).join(', ')}`);
    return results;
  } finally {
    await Promise.all(running.map((s) => stopServer(s.child)));
  }
}
