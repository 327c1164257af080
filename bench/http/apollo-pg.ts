import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import type pg from 'pg';
import { type CustomerRow, type OrderRow, ORDERS_PER_PAGE, SQL, customerJson, orderJson, yen } from './query.js';

/**
 * Baseline: the customer 360 server a developer writes by hand with Apollo Server, pg and
 * DataLoader (one batched statement per kind of record per request), no framework in between.
 */
const typeDefs = `#graphql
  type Query { customer(id: ID!): Customer }
  type Customer {
    id: ID! externalId: String! email: String firstName: String lastName: String tags: [String!]!
    metrics: Metrics! segments: [Segment!]! orders(first: Int): OrderConnection!
  }
  type Metrics {
    ordersCount: Int! totalSpent: Float! averageOrderValue: Float! firstOrderAt: String lastOrderAt: String decile: Int rfm: Rfm!
  }
  type Rfm { recency: Int frequency: Int monetary: Int group: String! }
  type Segment { id: ID! name: String! }
  type OrderConnection { totalCount: Int! pageInfo: PageInfo! nodes: [Order!]! }
  type PageInfo { hasNextPage: Boolean! }
  type Order { externalId: String! placedAt: String! status: String! total: Float! lines: [OrderLine!]! }
  type OrderLine { quantity: Int! unitPrice: Float! product: Product! }
  type Product { externalId: String! name: String! }
`;

interface Loaders {
  customer: DataLoader<string, CustomerRow | null>;
  segments: DataLoader<string, { id: string; name: string }[]>;
  orders: DataLoader<string, OrderRow[]>;
  orderCount: DataLoader<string, number>;
  lines: DataLoader<string, { quantity: number; unitPrice: number; product: { externalId: string; name: string } }[]>;
}

function grouped<R extends Record<K, string>, K extends string, V>(keys: readonly string[], rows: R[], key: K, map: (row: R) => V): V[][] {
  const byKey = new Map<string, V[]>(keys.map((k) => [k, []]));
  for (const row of rows) byKey.get(row[key])?.push(map(row));
  return keys.map((k) => byKey.get(k)!);
}

function loaders(pool: pg.Pool): Loaders {
  return {
    customer: new DataLoader(async (ids) => {
      const { rows } = await pool.query<CustomerRow>(SQL.customers, [ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    segments: new DataLoader(async (ids) =>
      grouped(ids, (await pool.query<{ customer_id: string; id: string; name: string }>(SQL.segments, [ids])).rows, 'customer_id', (r) => ({ id: r.id, name: r.name })),
    ),
    // One more row than the page tells whether there is a next page (pages of up to ORDERS_PER_PAGE,
    // what the benchmark's query asks for).
    orders: new DataLoader(async (ids) => grouped(ids, (await pool.query<OrderRow>(SQL.orders, [ids, ORDERS_PER_PAGE + 1])).rows, 'customer_id', (r) => r)),
    orderCount: new DataLoader(async (ids) => {
      const { rows } = await pool.query<{ customer_id: string; n: number }>(SQL.orderCounts, [ids]);
      const byId = new Map(rows.map((r) => [r.customer_id, r.n]));
      return ids.map((id) => byId.get(id) ?? 0);
    }),
    lines: new DataLoader(async (ids) =>
      grouped(
        ids,
        (await pool.query<{ order_id: string; quantity: number; unit_price_minor: string; product_external_id: string; product_name: string }>(SQL.lines, [ids])).rows,
        'order_id',
        (r) => ({ quantity: r.quantity, unitPrice: yen(r.unit_price_minor), product: { externalId: r.product_external_id, name: r.product_name } }),
      ),
    ),
  };
}

const resolvers = {
  Query: {
    customer: (_: unknown, args: { id: string }, ctx: Loaders) => (/^\d{1,18}$/.test(args.id) ? ctx.customer.load(args.id) : null),
  },
  Customer: {
    id: (c: CustomerRow) => c.id,
    externalId: (c: CustomerRow) => c.external_id,
    email: (c: CustomerRow) => c.email,
    firstName: (c: CustomerRow) => c.first_name,
    lastName: (c: CustomerRow) => c.last_name,
    metrics: (c: CustomerRow) => customerJson(c).metrics,
    segments: (c: CustomerRow, _: unknown, ctx: Loaders) => ctx.segments.load(c.id),
    orders: async (c: CustomerRow, args: { first?: number }, ctx: Loaders) => {
      const first = args.first ?? 20;
      const rows = await ctx.orders.load(c.id);
      return { customerId: c.id, hasNextPage: rows.length > first, rows: rows.slice(0, first) };
    },
  },
  OrderConnection: {
    totalCount: (p: { customerId: string }, _: unknown, ctx: Loaders) => ctx.orderCount.load(p.customerId),
    pageInfo: (p: { hasNextPage: boolean }) => ({ hasNextPage: p.hasNextPage }),
    nodes: (p: { rows: OrderRow[] }) => p.rows,
  },
  Order: {
    externalId: (o: OrderRow) => o.external_id,
    placedAt: (o: OrderRow) => orderJson(o).placedAt,
    total: (o: OrderRow) => yen(o.total_minor),
    lines: (o: OrderRow, _: unknown, ctx: Loaders) => ctx.lines.load(o.id),
  },
};

export async function startApolloPg(pool: pg.Pool): Promise<number> {
  const server = new ApolloServer<Loaders>({ typeDefs, resolvers, introspection: false });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' }, context: async () => loaders(pool) });
  return Number(new URL(url).port);
}
