import type { EventInput, Kokyaku } from '@kokyaku/core';
import { createLogger, startStandaloneServer } from '@kokyaku/server';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BENCH_TOKEN } from './http/query.js';

/**
 * Event ingestion: the same stream of storefront events (10% of them repeat an earlier event id,
 * in the same batch or an earlier one) stored three ways: `trackEvents` over HTTP and the core
 * API `events.track`, both in sequential batches of 1,000, against a direct `COPY` of the
 * de-duplicated rows with the customer and product ids already resolved (the floor: what storing
 * the result costs with no API, validation, id mapping, idempotency or metric upkeep). Rounds
 * interleave the three; each round writes new event ids. Every run is checked: each unique event
 * stored exactly once, the duplicates reported as unchanged.
 */
export interface IngestionResult {
  path: string;
  events: number;
  unique: number;
  ms: number;
  eventsPerSecond: number;
  stored: number;
  duplicatesStored: number;
}

const BATCH = 1000;
const TYPES = [
  'product_viewed',
  'product_viewed',
  'product_viewed',
  'product_viewed',
  'product_viewed',
  'product_viewed',
  'product_viewed',
  'added_to_cart',
  'added_to_cart',
  'searched',
];

/** `n` events for the seeded customers and products; every tenth is an earlier one again. */
export function eventStream(n: number, customers: number, products: number, prefix: string): EventInput[] {
  const now = Date.now();
  const events: EventInput[] = [];
  for (let k = 0; k < n; k++) {
    if (k % 10 === 5) {
      events.push(events[k - 1 - ((k * 7919) % Math.min(k, 3000))]!);
      continue;
    }
    const type = TYPES[k % TYPES.length]!;
    events.push({
      eventId: `${prefix}${k}`,
      type,
      customerExternalId: `C${1 + ((k * 7919) % customers)}`,
      productExternalId: type === 'searched' ? null : `P${1 + ((k * 31) % products)}`,
      occurredAt: new Date(now - (k % 30) * 86_400_000 - (k % 86_400) * 1000).toISOString(),
      properties: type === 'searched' ? { query: `bench ${k % 97}`, source: 'bench' } : { source: 'bench', position: k % 24 },
    });
  }
  return events;
}

/** Sends the events in sequential batches of 1,000, timing the whole and adding up the counts. */
async function inBatches(events: EventInput[], send: (batch: EventInput[]) => Promise<{ created: number; unchanged: number }>) {
  let created = 0;
  let unchanged = 0;
  const started = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const result = await send(events.slice(i, i + BATCH));
    created += result.created;
    unchanged += result.unchanged;
  }
  return { ms: performance.now() - started, created, unchanged };
}

const csv = (value: string | null | undefined) => (value === null || value === undefined ? '' : `"${value.replace(/"/g, '""')}"`);

async function copyEvents(url: string, events: EventInput[], ids: { customers: Map<string, string>; products: Map<string, string> }): Promise<number> {
  const unique = [...new Map(events.map((e) => [e.eventId, e])).values()];
  const rows = unique.map((e) =>
    [
      'default',
      csv(e.eventId),
      csv(e.type),
      e.customerExternalId ? ids.customers.get(e.customerExternalId) : '',
      e.productExternalId ? ids.products.get(e.productExternalId) : '',
      csv(String(e.occurredAt)),
      csv(JSON.stringify(e.properties ?? {})),
    ].join(','),
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    const stream = client.query(copyFrom(`copy kokyaku.events (tenant_id, event_id, type, customer_id, product_id, occurred_at, properties) from stdin (format csv)`));
    await new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
      for (let i = 0; i < rows.length; i += 5000) stream.write(`${rows.slice(i, i + 5000).join('\n')}\n`);
      stream.end();
    });
    return performance.now() - started;
  } finally {
    await client.end();
  }
}

export async function benchIngestion(
  kokyaku: Kokyaku,
  options: { events: number; customers: number; products: number; rounds: number },
  log: (line: string) => void,
): Promise<IngestionResult[]> {
  const knex = kokyaku.orm.em.getKnex();
  const server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: BENCH_TOKEN, logger: createLogger({ level: 'warn' }) });
  const idMap = async (table: 'customers' | 'products', externalIds: string[]) =>
    new Map(
      (
        (await knex.raw(`select external_id, id::text as id from kokyaku.${table} where tenant_id = 'default' and external_id = any(?)`, [externalIds])) as {
          rows: { external_id: string; id: string }[];
        }
      ).rows.map((r) => [r.external_id, r.id]),
    );
  const paths: { name: string; run: (events: EventInput[]) => Promise<{ ms: number; created: number; unchanged: number }> }[] = [
    {
      name: 'COPY of the de-duplicated rows (baseline)',
      run: async (events) => {
        const ids = {
          customers: await idMap('customers', [...new Set(events.flatMap((e) => (e.customerExternalId ? [e.customerExternalId] : [])))]),
          products: await idMap('products', [...new Set(events.flatMap((e) => (e.productExternalId ? [e.productExternalId] : [])))]),
        };
        const unique = new Set(events.map((e) => e.eventId)).size;
        return { ms: await copyEvents(kokyaku.databaseUrl, events, ids), created: unique, unchanged: events.length - unique };
      },
    },
    {
      name: 'core API events.track, batches of 1,000',
      run: (events) =>
        inBatches(events, async (batch) => {
          const result = await kokyaku.events.track(kokyaku.context(), batch);
          if (result.failed) throw new Error(`events.track rejected ${result.failed} events: ${JSON.stringify(result.errors[0])}`);
          return result;
        }),
    },
    {
      name: 'GraphQL trackEvents over HTTP, batches of 1,000',
      run: (events) =>
        inBatches(events, async (batch) => {
          const res = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
            body: JSON.stringify({
              query: 'mutation($events: [EventInput!]!) { trackEvents(events: $events) { created unchanged failed } }',
              variables: { events: batch },
            }),
          });
          const body = (await res.json()) as { data?: { trackEvents: { created: number; unchanged: number; failed: number } }; errors?: unknown };
          if (!body.data || body.data.trackEvents.failed) throw new Error(`trackEvents: ${JSON.stringify(body)}`);
          return body.data.trackEvents;
        }),
    },
  ];
  try {
    const times = new Map<string, number[]>(paths.map((p) => [p.name, []]));
    const last = new Map<string, { stored: number; unique: number }>();
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const path = paths[(round + i) % paths.length]!;
        const prefix = `bench-${(round + i) % paths.length}-${round}-`;
        const events = eventStream(options.events, options.customers, options.products, prefix);
        const unique = new Set(events.map((e) => e.eventId)).size;
        const { ms, created, unchanged } = await path.run(events);
        const stored = Number(
          ((await knex.raw(`select count(*) as n from kokyaku.events where tenant_id = 'default' and event_id like ?`, [`${prefix}%`])) as { rows: { n: string }[] }).rows[0]!.n,
        );
        if (stored !== unique || created !== unique || unchanged !== events.length - unique) {
          throw new Error(`${path.name}: ${unique} unique of ${events.length} events, ${stored} stored, ${created} reported created, ${unchanged} unchanged`);
        }
        times.get(path.name)!.push(ms);
        last.set(path.name, { stored, unique });
        log(`  round ${round + 1}, ${path.name}: ${(ms / 1000).toFixed(2)} s for ${events.length.toLocaleString('en')} events (${stored.toLocaleString('en')} stored)`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    return paths.map((p) => {
      const ms = median(times.get(p.name)!);
      const { stored, unique } = last.get(p.name)!;
      return { path: p.name, events: options.events, unique, ms, eventsPerSecond: options.events / (ms / 1000), stored, duplicatesStored: stored - unique };
    });
  } finally {
    await server.close();
  }
}
