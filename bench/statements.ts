import { createKokyaku, type Kokyaku } from '@kokyaku/core';
import { createLogger, startStandaloneServer } from '@kokyaku/server';
import { BENCH_TOKEN } from './http/query.js';

/**
 * SQL statements per operation: list queries that walk customers -> metrics, segments, orders ->
 * lines -> products, asked at a small and a large page size through `/graphql`, counting every
 * statement the server sends to PostgreSQL. Batching (DataLoader) must make the count independent
 * of the page size; the baseline is the same operation at the small page size.
 */
export interface StatementsResult {
  operation: string;
  small: number;
  large: number;
  smallStatements: number;
  largeStatements: number;
  equal: boolean;
}

const CUSTOMER_FIELDS = `id email firstName metrics { totalSpent rfm { group } } segments { name }
  orders(first: 3) { totalCount nodes { externalId total lines { quantity product { externalId name } } } }`;

const OPERATIONS: {
  name: string;
  query: string;
  small: number;
  large: number;
  rows: (data: Record<string, any>) => number;
  variables?: (ids: { segmentId: string }) => Record<string, unknown>;
}[] = [
  {
    name: 'customers',
    query: `query($first: Int) { customers(first: $first) { totalCount nodes { ${CUSTOMER_FIELDS} } } }`,
    small: 10,
    large: 100,
    rows: (d) => d.customers.nodes.length,
  },
  {
    name: 'customers(segment: "number_of_orders >= 2")',
    query: `query($first: Int) { customers(first: $first, segment: "number_of_orders >= 2") { totalCount nodes { ${CUSTOMER_FIELDS} } } }`,
    small: 10,
    large: 100,
    rows: (d) => d.customers.nodes.length,
  },
  {
    name: 'segment.customers',
    query: `query($first: Int, $segmentId: ID!) { segment(id: $segmentId) { count customers(first: $first) { nodes { ${CUSTOMER_FIELDS} } } } }`,
    small: 10,
    large: 100,
    rows: (d) => d.segment.customers.nodes.length,
    variables: ({ segmentId }) => ({ segmentId }),
  },
  {
    name: 'segmentPreview',
    query: `query($first: Int) { segmentPreview(query: "amount_spent >= 5000", first: $first) { count customers { ${CUSTOMER_FIELDS} } } }`,
    small: 10,
    large: 100,
    rows: (d) => d.segmentPreview.customers.length,
  },
  {
    name: 'searchCustomers (page size at most 50)',
    query: `query($first: Int) { searchCustomers(query: "user1", first: $first) { nodes { rank customer { ${CUSTOMER_FIELDS} } } } }`,
    small: 10,
    large: 50,
    rows: (d) => d.searchCustomers.nodes.length,
  },
];

export async function benchStatements(seeded: Kokyaku, log: (line: string) => void): Promise<StatementsResult[]> {
  let statements = 0;
  // A second Kokyaku on the seeded database, counting its statements.
  const kokyaku = await createKokyaku({
    database: { url: seeded.databaseUrl, migrate: false, onQuery: () => statements++ },
    shop: seeded.config.shop,
  });
  const server = await startStandaloneServer(kokyaku, {
    port: 0,
    host: '127.0.0.1',
    adminToken: BENCH_TOKEN,
    // Audit writes of personal reads happen in the request that caused them, so they count there.
    auditFlushMs: 0,
    logger: createLogger({ level: 'warn' }),
  });
  try {
    const segment = (await seeded.segments.list(seeded.context())).nodes[0];
    if (!segment) throw new Error('The statements benchmark needs a saved segment (created before it runs).');
    const run = async (op: (typeof OPERATIONS)[number], first: number) => {
      statements = 0;
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
        body: JSON.stringify({ query: op.query, variables: { first, ...op.variables?.({ segmentId: segment.id }) } }),
      });
      const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
      if (body.errors || !body.data) throw new Error(`${op.name}: ${JSON.stringify(body.errors)}`);
      const rows = op.rows(body.data);
      if (rows !== first) throw new Error(`${op.name}: asked for ${first} rows, got ${rows} (the seeded shop is too small for this page size)`);
      return statements;
    };
    const results: StatementsResult[] = [];
    for (const op of OPERATIONS) {
      await run(op, op.small); // warm-up: cached shop-wide figures, prepared plans
      const smallStatements = await run(op, op.small);
      const largeStatements = await run(op, op.large);
      results.push({ operation: op.name, small: op.small, large: op.large, smallStatements, largeStatements, equal: smallStatements === largeStatements });
      log(
        `  ${op.name}: ${smallStatements} statements at first: ${op.small}, ${largeStatements} at first: ${op.large}${smallStatements === largeStatements ? '' : ' (NOT EQUAL)'}`,
      );
    }
    return results;
  } finally {
    await server.close();
    await kokyaku.close();
  }
}
