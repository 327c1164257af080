import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type StandaloneServer, startStandaloneServer } from '../src/index.js';
import { gql } from './helpers.js';

let kokyaku: Kokyaku;
let server: StandaloneServer;
let statements: string[] = [];
let segmentId: string;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { database: { onQuery: (sql) => statements.push(sql) } });
  // Audit writes of personal reads in the request that caused them: counted there, deterministically.
  server = await startStandaloneServer(kokyaku, { port: 0, adminToken: 'token', auditFlushMs: 0 });
  const ctx = kokyaku.context();
  await kokyaku.products.upsert(
    ctx,
    Array.from({ length: 20 }, (_, p) => ({ externalId: `p${p}`, name: `Product ${p}`, price: 10 + p })),
  );
  await kokyaku.orders.record(
    ctx,
    Array.from({ length: 60 }, (_, c) =>
      Array.from({ length: 3 }, (_, o) => ({
        externalId: `o${c}-${o}`,
        customerExternalId: `c${String(c).padStart(2, '0')}`,
        placedAt: new Date(Date.UTC(2026, o, 1 + (c % 28))).toISOString(),
        lines: [
          { productExternalId: `p${(c + o) % 20}`, quantity: 1, unitPrice: 10 },
          { productExternalId: `p${(c * 7 + o) % 20}`, quantity: 2, unitPrice: 5 },
        ],
      })),
    ).flat(),
  );
  await kokyaku.customers.upsert(
    ctx,
    Array.from({ length: 60 }, (_, c) => ({ externalId: `c${String(c).padStart(2, '0')}`, email: `user${c}@example.com` })),
  );
  segmentId = (await kokyaku.segments.create(ctx, { name: 'Buyers', query: 'number_of_orders >= 1' })).id;
});
afterAll(async () => {
  await server?.close();
  await kokyaku?.close();
});

const QUERY = `query($first: Int) { customers(first: $first) { nodes { externalId orders { totalCount nodes { externalId lines { quantity product { name } } } } } } }`;

async function countStatements(first: number) {
  statements = [];
  const res = await gql(server.url, QUERY, { first }, { authorization: 'Bearer token' });
  expect(res.errors).toBeUndefined();
  const nodes = res.data!.customers.nodes as { orders: { totalCount: number; nodes: { lines: { product: { name: string } }[] }[] } }[];
  expect(nodes).toHaveLength(first);
  expect(nodes.every((n) => n.orders.totalCount === 3 && n.orders.nodes.length === 3 && n.orders.nodes.every((o) => o.lines.length === 2 && o.lines[0]!.product.name))).toBe(true);
  return statements.length;
}

it('loads customers -> orders -> lines -> products with a constant number of SQL statements', async () => {
  const for10 = await countStatements(10);
  const for50 = await countStatements(50);
  expect(for10).toBe(for50);
  // customers page, their orders (counted in the same statement), the orders' lines with their products.
  expect(for50).toBe(3);
});

const CUSTOMER = 'externalId metrics { totalSpent rfm { group } } segments { name } orders(first: 2) { totalCount nodes { externalId lines { quantity product { name } } } }';
const LISTS: [name: string, query: string, nodes: (data: any) => unknown[]][] = [
  ['customers(segment:)', `query($first: Int) { customers(first: $first, segment: "amount_spent > 0") { totalCount nodes { ${CUSTOMER} } } }`, (d) => d.customers.nodes],
  [
    'segment.customers',
    `query($first: Int, $segmentId: ID!) { segment(id: $segmentId) { count customers(first: $first) { nodes { ${CUSTOMER} } } } }`,
    (d) => d.segment.customers.nodes,
  ],
  ['segmentPreview', `query($first: Int) { segmentPreview(query: "number_of_orders >= 3", first: $first) { count customers { ${CUSTOMER} } } }`, (d) => d.segmentPreview.customers],
  ['searchCustomers', `query($first: Int) { searchCustomers(query: "user", first: $first) { nodes { customer { ${CUSTOMER} } } } }`, (d) => d.searchCustomers.nodes],
];

it.each(LISTS)('%s: the same number of SQL statements for 10 customers as for 50', async (_name, query, nodes) => {
  const count = async (first: number) => {
    statements = [];
    const res = await gql(server.url, query, { first, segmentId }, { authorization: 'Bearer token' });
    expect(res.errors).toBeUndefined();
    expect(nodes(res.data)).toHaveLength(first);
    return statements.length;
  };
  await count(10); // warm-up: shop-wide figures cached for a minute
  expect(await count(10)).toBe(await count(50));
});

it('loads the CRM fields of a list of customers with a constant number of SQL statements', async () => {
  const ctx = kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
  const company = await kokyaku.companies.create(ctx, { name: 'Buyers Inc.' });
  for (let c = 0; c < 60; c++) await kokyaku.companies.addContact(ctx, company.id, { externalId: `c${String(c).padStart(2, '0')}` }, { title: 'Buyer' });
  const query = `query($first: Int) { customers(first: $first) { nodes { externalId leadScore { score band } customFieldValues { key } companies { title company { name contacts { customerId } } } } } }`;
  const count = async (first: number) => {
    statements = [];
    const res = await gql(server.url, query, { first }, { authorization: 'Bearer token' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.customers.nodes).toHaveLength(first);
    expect(res.data!.customers.nodes.every((n: any) => n.companies[0].company.name === 'Buyers Inc.' && n.companies[0].company.contacts.length === 60)).toBe(true);
    return statements.length;
  };
  await count(10);
  expect(await count(10)).toBe(await count(50));
});

it("pages a customer's orders newest first, with the count of all their orders on every page", async () => {
  const page = async (after: string | null) => {
    const res = await gql(
      server.url,
      `query($after: String) { customer(externalId: "c07") { orders(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { externalId placedAt } } } }`,
      { after },
      { authorization: 'Bearer token' },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.customer.orders as { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; nodes: { externalId: string }[] };
  };
  const first = await page(null);
  expect(first).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
  const second = await page(first.pageInfo.endCursor);
  expect(second).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
  expect([...first.nodes, ...second.nodes].map((o) => o.externalId)).toEqual(['o7-2', 'o7-1', 'o7-0']);
});
