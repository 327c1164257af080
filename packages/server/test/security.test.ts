import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type Kokyaku, type Role, SYSTEM, bindTenant, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kokyakuExpress, type KokyakuExpressOptions, type KokyakuRouter } from '../src/express.js';
import { createLogger } from '../src/logger.js';
import { buildKokyakuSchema } from '../src/schema/build.js';
import { FIELD_ACCESS, enforceFieldAccess, undeclaredFields } from '../src/security/access.js';
import { createCostLimiter } from '../src/security/rate-limit.js';
import { gql } from './helpers.js';

let kokyaku: Kokyaku;
const servers: { router: KokyakuRouter; server: Server }[] = [];
const logLines: string[] = [];
let url: string;

/** Actors by header: `x-actor: ROLE@tenant` or `STOREFRONT@tenant#customerExternalId`. */
async function mount(options: Partial<KokyakuExpressOptions> = {}): Promise<string> {
  const app = express();
  const router = await kokyakuExpress(kokyaku, {
    identify: (req) => {
      const header = req.headers['x-actor'];
      if (typeof header !== 'string') return { actor: null };
      const [, role, tenantId, customer] = /^(\w+)@([\w-]+)(?:#(.+))?$/.exec(header)!;
      return { tenantId, actor: { id: `${role}-${tenantId}`, roles: [role as Role], customerExternalId: customer } };
    },
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
    ...options,
  });
  app.use('/graphql', router);
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push({ router, server });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const as = (actor: string) => ({ 'x-actor': actor });
const ADMIN_A = as('ADMIN@shop-a');

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
  url = await mount();
  for (const [tenant, quantity] of [
    ['shop-a', 1],
    ['shop-b', 7],
  ] as const) {
    const ctx = kokyaku.context({ tenantId: tenant });
    await kokyaku.customers.upsert(ctx, [
      {
        externalId: 'c-1',
        email: `hanako@${tenant}.example`,
        phone: '090-1234-5678',
        firstName: 'Hanako',
        lastName: 'Sato',
        birthday: '1990-04-01',
        city: 'Sapporo',
        tags: ['vip'],
      },
      { externalId: 'c-2', email: `taro@${tenant}.example`, firstName: 'Taro' },
    ]);
    await kokyaku.orders.record(ctx, [
      {
        externalId: 'o-1',
        customerExternalId: 'c-1',
        placedAt: new Date('2026-06-01T00:00:00Z'),
        lines: [
          { productExternalId: 'p-1', quantity, unitPrice: 1000 },
          { productExternalId: 'p-2', quantity: 1, unitPrice: 500 },
        ],
      },
      {
        externalId: 'o-2',
        customerExternalId: 'c-2',
        placedAt: new Date('2026-06-02T00:00:00Z'),
        lines: [
          { productExternalId: 'p-1', quantity: 1, unitPrice: 1000 },
          { productExternalId: 'p-2', quantity: 1, unitPrice: 500 },
        ],
      },
    ]);
    await kokyaku.segments.create(ctx, { name: `${tenant} vips`, query: `customer_tags CONTAINS 'vip'` });
  }
  await kokyaku.customers.upsert(kokyaku.context({ tenantId: 'shop-b' }), [{ externalId: 'only-b', email: 'only@shop-b.example' }]);
  await kokyaku.refresh();
});

afterAll(async () => {
  for (const { router, server } of servers) {
    await router.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await kokyaku?.close();
});

describe('access rules', () => {
  it('declares a rule for every field of the schema', async () => {
    const schema = await buildKokyakuSchema();
    expect(undeclaredFields(schema)).toEqual([]);
    // And the check bites: a field without a rule stops the schema from being built.
    const bare = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { customer: { type: new GraphQLObjectType({ name: 'Customer', fields: { secret: { type: GraphQLString } } }) } } }),
    });
    expect(() => enforceFieldAccess(bare, { Customer: FIELD_ACCESS.Customer! })).toThrow(/Customer\.secret/);
  });

  it('applies a roles rule: other roles get FORBIDDEN for that field only', async () => {
    const note = new GraphQLObjectType({ name: 'Note', fields: { title: { type: GraphQLString }, body: { type: GraphQLString } } });
    // A root field name that declares its roles (@Authorized) in the real schema.
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { customer: { type: note, resolve: () => ({ title: 't', body: 'b' }) } } }) });
    enforceFieldAccess(schema, { Note: { title: { kind: 'inherit' }, body: { kind: 'roles', roles: ['ADMIN'] } } });
    const run = (roles: Role[]) => graphql({ schema, source: '{ customer { title body } }', contextValue: { actor: { id: 'a', roles } } });
    expect((await run(['ADMIN'])).data).toEqual({ customer: { title: 't', body: 'b' } });
    const viewer = await run(['VIEWER']);
    expect(viewer.data).toEqual({ customer: { title: 't', body: null } });
    expect(viewer.errors?.[0]?.originalError).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('masks contact data for a VIEWER and shows it to SUPPORT', async () => {
    const query = `{ customer(externalId: "c-1") { email phone birthday city firstName metrics { totalSpent } } }`;
    const viewer = await gql(url, query, {}, as('VIEWER@shop-a'));
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data?.customer).toEqual({
      email: 'h***@shop-a.example',
      phone: `${'*'.repeat(11)}78`,
      birthday: null,
      city: null,
      firstName: 'Hanako',
      metrics: { totalSpent: 1500 },
    });
    const support = await gql(url, query, {}, as('SUPPORT@shop-a'));
    expect(support.data?.customer).toMatchObject({ email: 'hanako@shop-a.example', phone: '+819012345678', birthday: '1990-04-01', city: 'Sapporo' });
  });

  it("keeps a STOREFRONT actor to its own customer's recommendations", async () => {
    const shopper = as('STOREFRONT@shop-a#c-1');
    const own = await gql(url, `{ recommendations(strategy: FOR_CUSTOMER, first: 3, windowDays: 3650) { product { externalId } } }`, {}, shopper);
    expect(own.errors).toBeUndefined();
    const other = await gql(url, `{ recommendations(customerExternalId: "c-2", strategy: FOR_CUSTOMER) { product { externalId } } }`, {}, shopper);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const query of [
      `{ customer(externalId: "c-2") { firstName } }`,
      `{ customers { nodes { email } } }`,
      `{ searchCustomers(query: "Taro") { nodes { value } } }`,
      `{ segments { nodes { name } } }`,
    ]) {
      const denied = await gql(url, query, {}, shopper);
      expect(denied.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(denied.data?.customer ?? denied.data?.customers ?? null).toBeNull();
    }
  });

  it('refuses anonymous callers with UNAUTHENTICATED and write operations to a VIEWER with FORBIDDEN', async () => {
    const anonymous = await gql(url, `{ customers { nodes { id } } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const write = await gql(url, `mutation { createSegment(name: "x", query: "number_of_orders >= 1") { id } }`, {}, as('VIEWER@shop-a'));
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('tenants over GraphQL', () => {
  it('shows tenant A nothing of tenant B by any operation', async () => {
    const b = await gql(url, `{ customer(externalId: "only-b") { id } }`, {}, as('ADMIN@shop-b'));
    const bId = b.data?.customer.id as string;
    const bSegments = await gql(url, `{ segments { nodes { id } } }`, {}, as('ADMIN@shop-b'));
    const bSegment = bSegments.data?.segments.nodes[0].id as string;
    const checks: [string, (data: any) => unknown, unknown][] = [
      [
        `{ customers(first: 100) { totalCount nodes { externalId email } } }`,
        (d) => [d.customers.totalCount, d.customers.nodes.map((c: any) => c.email).sort()],
        [2, ['hanako@shop-a.example', 'taro@shop-a.example']],
      ],
      [`{ customer(id: "${bId}") { id } }`, (d) => d.customer, null],
      [`{ customer(externalId: "only-b") { id } }`, (d) => d.customer, null],
      [`{ searchCustomers(query: "only@shop-b") { nodes { customer { id } } } }`, (d) => d.searchCustomers.nodes, []],
      [`{ segment(id: "${bSegment}") { id } }`, (d) => d.segment, null],
      [`{ segments { totalCount nodes { name count } } }`, (d) => d.segments, { totalCount: 1, nodes: [{ name: 'shop-a vips', count: 1 }] }],
      [
        `{ segmentPreview(query: "amount_spent > 0") { count customers { email } } }`,
        (d) => [d.segmentPreview.count, d.segmentPreview.customers.every((c: any) => c.email.endsWith('shop-a.example'))],
        [2, true],
      ],
      [`{ customers(segment: "amount_spent >= 7000") { totalCount } }`, (d) => d.customers.totalCount, 0],
      [
        `{ recommendations(productExternalId: "p-1", strategy: BOUGHT_TOGETHER) { product { externalId } score } }`,
        (d) => d.recommendations.map((r: any) => r.product.externalId),
        ['p-2'],
      ],
      [`{ rfmReport { customers revenue } }`, (d) => d.rfmReport, { customers: 2, revenue: 3000 }],
    ];
    for (const [query, pick, expected] of checks) {
      const res = await gql(url, query, {}, ADMIN_A);
      expect(res.errors, query).toBeUndefined();
      expect(pick(res.data), query).toEqual(expected);
    }
    // A customer 360 of each tenant in one list: the DataLoader batches stay in the caller's tenant.
    const list = await gql(url, `{ customers { nodes { externalId orders { totalCount nodes { total lines { product { externalId } } } } segments { name } } } }`, {}, ADMIN_A);
    expect(list.data?.customers.nodes.map((c: any) => [c.externalId, c.orders.nodes[0].total, c.segments.map((s: any) => s.name)])).toEqual([
      ['c-1', 1500, ['shop-a vips']],
      ['c-2', 1500, []],
    ]);
  });
});

describe('query limits', () => {
  const nested = (depth: number) => {
    let selection = 'id';
    for (let i = 0; i < depth; i++) selection = i % 2 === 0 ? `orders { nodes { customer { ${selection} } } }` : `id ${selection}`;
    return `{ customer(externalId: "c-1") { ${selection} } }`;
  };
  const limited = async (query: string, limit: string) => {
    const res = await gql(url, query, {}, ADMIN_A);
    expect(res.errors?.[0]?.extensions, limit).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit });
    expect(res.data ?? null).toBeNull();
  };

  it('rejects each over-limit document with a coded error, and lets the customer 360 through', async () => {
    await limited(nested(6), 'depth');
    await limited(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: segments { totalCount }`).join(' ')} }`, 'aliases');
    await limited(`{ customers { nodes { ${Array.from({ length: 5100 }, () => 'id').join(' ')} } } }`, 'tokens');
    await limited(`{ customers { nodes { id ${Array.from({ length: 21 }, () => '@include(if: true)').join(' ')} } } }`, 'directives');
    await limited(
      `{ customers(first: 500) { nodes { orders(first: 500) { nodes { lines { product { id externalId name price currency categories tags inStock } } } } } } }`,
      'cost',
    );
    const ok = await gql(
      url,
      `{ customer(externalId: "c-1") { id email metrics { totalSpent } orders(first: 10) { totalCount nodes { externalId total lines { quantity product { externalId name } } } } } }`,
      {},
      ADMIN_A,
    );
    expect(ok.errors).toBeUndefined();
  });

  it('refuses a text/plain POST (CSRF) and batched requests', async () => {
    const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...ADMIN_A }, body: JSON.stringify({ query: '{ segments { totalCount } }' }) });
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/CSRF|content-type/i);
    const batched = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ADMIN_A },
      body: JSON.stringify([{ query: '{ segments { totalCount } }' }, { query: '{ segments { totalCount } }' }]),
    });
    expect(batched.status).toBe(400);
  });

  it('limits costly operations per actor with RATE_LIMITED, other actors unaffected', async () => {
    const tight = await mount({ costLimiter: createCostLimiter({ points: 12, durationSeconds: 60 }) });
    const preview = `{ segmentPreview(query: "amount_spent > 0") { count } }`;
    expect((await gql(tight, preview, {}, ADMIN_A)).errors).toBeUndefined();
    expect((await gql(tight, preview, {}, ADMIN_A)).errors).toBeUndefined();
    const third = await gql(tight, preview, {}, ADMIN_A);
    expect(third.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(third.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect((await gql(tight, preview, {}, as('MARKETER@shop-a'))).errors).toBeUndefined();
    // Cheap reads spend nothing.
    expect((await gql(tight, `{ customer(externalId: "c-1") { id } }`, {}, ADMIN_A)).errors).toBeUndefined();
  });
});

describe('production mode', () => {
  it('turns off introspection and suggestions, and masks unexpected errors with a request id found in the log', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    let prod: string;
    try {
      prod = await mount();
    } finally {
      process.env.NODE_ENV = previous;
    }
    const introspection = await gql(prod, `{ __schema { types { name } } }`, {}, ADMIN_A);
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const typo = await gql(prod, `{ custmers { nodes { id } } }`, {}, ADMIN_A);
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const dev = await gql(url, `{ custmers { nodes { id } } }`, {}, ADMIN_A);
    expect(dev.errors?.[0]?.message).toMatch(/Did you mean/);

    // A database that refuses a read (a privilege revoked by mistake): nobody expected that.
    const admin = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    await sql(admin, 'revoke select on kokyaku.segments from kokyaku_tenant');
    let broken;
    try {
      broken = await gql(prod, `{ segments { nodes { name } } }`, {}, ADMIN_A);
    } finally {
      await sql(admin, 'grant select on kokyaku.segments to kokyaku_tenant');
    }
    const error = broken.errors?.[0];
    expect(error?.message).toBe('Internal server error');
    expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error?.extensions?.stacktrace).toBeUndefined();
    const requestId = error?.extensions?.requestId as string;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
    expect(logged).toMatchObject({ level: 50, msg: 'unexpected error' });
    expect(JSON.stringify(logged)).toMatch(/permission denied for table segments/);
  });

  it('asks browsers and proxies never to store an answer', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ADMIN_A },
      body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it("answers the caller's request id, and never writes personal data to the log", async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42', ...ADMIN_A },
      body: JSON.stringify({ query: '{ segmentPreview(query: "nonsense >= ") { count } }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'SEGMENT_QUERY_INVALID', requestId: 'trace-42' });
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
    logger.error(
      {
        customer: { email: 'hanako@shop-a.example', phone: '+819012345678' },
        batch: [{ email: 'taro@shop-a.example' }],
        err: Object.assign(new Error('duplicate key'), { detail: 'Key (email)=(taro@shop-a.example) already exists.' }),
      },
      'failed',
    );
    const all = logLines.join('\n');
    expect(all).toContain('[redacted]');
    expect(all).not.toMatch(/hanako@shop-a\.example|taro@shop-a\.example|\+819012345678/);
  });
});
