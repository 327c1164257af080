import { readFile } from 'node:fs/promises';
import type { ChannelAdapter, Kokyaku, OutboundMessage } from '@kokyaku/core';
import type { RequestIdentity } from '@kokyaku/server';
import {
  type IntrospectionQuery,
  Kind,
  type NamedTypeNode,
  type OperationDefinitionNode,
  buildClientSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  parse,
  print,
  printSchema,
  visit,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_360, type GraphQLResponse, RECORD_ORDERS, TRACK_EVENTS, UPSERT_CUSTOMERS, UPSERT_PRODUCTS, gql } from './helpers.js';

export interface MountUnderTest {
  /** URL of the GraphQL endpoint. */
  url: string;
  /** Headers that make a request an administrator. */
  adminHeaders: Record<string, string>;
  kokyaku: Kokyaku;
  close(): Promise<void>;
  /** Mails the mount's Kokyaku sent (see `mailbox`). */
  sent?: OutboundMessage[];
}

/** An email channel that keeps what it sends: `messaging: { adapters: box.adapters }`. */
export function mailbox(): { sent: OutboundMessage[]; adapters: { EMAIL: ChannelAdapter } } {
  const sent: OutboundMessage[] = [];
  return { sent, adapters: { EMAIL: { send: async (message) => (sent.push(message), { providerId: `p-${sent.length}` }) } } };
}

export interface MountOptions {
  /** Kokyaku's operations live under this field of the host's Query and Mutation, its types carry this prefix (a host schema mount). */
  namespace?: { field: string; prefix: string };
  /** The mount identifies callers with `identifyBearer` (a shopper session as well as staff). */
  sessions?: boolean;
  /** The host app serves `GET /products` (answering `[{ "id": "shop-1" }]`) beside the mount. */
  hostRoutes?: boolean;
  /** The path (on the endpoint's origin) where the mount serves the message links of journeys. */
  links?: string;
  extra?: (mount: () => MountUnderTest) => void;
  /** The mount answers `<url>/healthz` and `<url>/readyz` (default true; a Next.js route needs a catch-all route for them). */
  probes?: boolean;
  /** The path (on the endpoint's origin) where the mount serves the staff console (`console: true`). */
  console?: string;
}

/**
 * The identity rule of the mounts under test: `Bearer staff-session` is an administrator,
 * `Bearer shopper-session` the storefront of customer S-1, anything else anonymous.
 */
export function identifyBearer(authorization: string | null | undefined): RequestIdentity {
  if (authorization === 'Bearer staff-session') return { actor: { id: 'staff-1', roles: ['ADMIN'] } };
  if (authorization === 'Bearer shopper-session') return { actor: { id: 'shopper-1', roles: ['STOREFRONT'], customerExternalId: 'S-1' } };
  return { actor: null };
}

export const SESSION_HEADERS = { authorization: 'Bearer staff-session' };

const BUILT_IN = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

/**
 * A document as a host schema mount takes it: every operation under one field (`{ a }` becomes
 * `{ crm { a } }`) and Kokyaku's type names prefixed (`$p: [ProductInput!]!` becomes
 * `$p: [CrmProductInput!]!`).
 */
export function namespaced(query: string, { field, prefix }: { field: string; prefix: string }): string {
  return print(
    visit(parse(query), {
      OperationDefinition: (node: OperationDefinitionNode) => ({
        ...node,
        selectionSet: { kind: Kind.SELECTION_SET, selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: field }, selectionSet: node.selectionSet }] },
      }),
      NamedType: (node: NamedTypeNode) => (BUILT_IN.has(node.name.value) ? node : { ...node, name: { ...node.name, value: `${prefix}${node.name.value}` } }),
    }),
  );
}

/**
 * One suite for every way Kokyaku is mounted: the same operations must behave the same through
 * the standalone server, the Express middleware, Fastify, the fetch handler and a host's schema.
 */
export function describeMount(name: string, start: () => Promise<MountUnderTest>, options: MountOptions = {}): void {
  describe(`GraphQL contract through ${name}`, () => {
    let mount: MountUnderTest;
    const send = async (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResponse> => {
      if (!options.namespace) return gql(mount.url, query, variables, headers);
      const res = await gql(mount.url, namespaced(query, options.namespace), variables, headers);
      return { ...res, data: res.data ? (res.data[options.namespace.field] ?? undefined) : res.data };
    };
    const admin = (query: string, variables: Record<string, unknown> = {}) => send(query, variables, mount.adminHeaders);
    const extra = options.extra;

    beforeAll(async () => {
      mount = await start();
    });
    afterAll(() => mount?.close());

    it('ingests idempotently and answers the 360 view from the orders', async () => {
      const products = [
        { externalId: 'SKU-1', name: 'Ethiopia beans 200g', price: 1800, categories: ['coffee'] },
        { externalId: 'SKU-2', name: 'Paper filters', price: 400, categories: ['equipment'] },
      ];
      const customers = [{ externalId: 'C-1', email: 'Taro@Example.jp', phone: '+81 90 1234 5678', tags: ['vip'], customFields: { skin: 'dry' } }];
      const orders = [
        { externalId: 'O-1', customerExternalId: 'C-1', placedAt: '2026-01-02T03:04:05Z', lines: [{ productExternalId: 'SKU-1', quantity: 2, unitPrice: 1800 }] },
        {
          externalId: 'O-2',
          customerExternalId: 'C-1',
          placedAt: '2026-02-02T03:04:05+09:00',
          lines: [
            { productExternalId: 'SKU-1', quantity: 1, unitPrice: 1800 },
            { productExternalId: 'SKU-2', quantity: 3, unitPrice: 400 },
          ],
        },
      ];
      const events = [
        { eventId: 'E-1', type: 'product_viewed', customerExternalId: 'C-1', productExternalId: 'SKU-2', occurredAt: '2026-01-01T00:00:00Z', properties: { q: 'filter' } },
      ];

      for (let round = 0; round < 2; round++) {
        const fresh = round === 0;
        const p = await admin(UPSERT_PRODUCTS, { products });
        expect(p.data?.upsertProducts).toMatchObject({ received: 2, created: fresh ? 2 : 0, unchanged: fresh ? 0 : 2, failed: 0 });
        const c = await admin(UPSERT_CUSTOMERS, { customers });
        expect(c.data?.upsertCustomers).toMatchObject({ received: 1, created: fresh ? 1 : 0, unchanged: fresh ? 0 : 1 });
        const o = await admin(RECORD_ORDERS, { orders });
        expect(o.data?.recordOrders).toMatchObject({ received: 2, created: fresh ? 2 : 0, unchanged: fresh ? 0 : 2 });
        const e = await admin(TRACK_EVENTS, { events });
        expect(e.data?.trackEvents).toMatchObject({ received: 1, created: fresh ? 1 : 0, unchanged: fresh ? 0 : 1 });
      }

      const { data, errors } = await admin(CUSTOMER_360, { externalId: 'C-1' });
      expect(errors).toBeUndefined();
      expect(data?.customer).toMatchObject({
        externalId: 'C-1',
        email: 'taro@example.jp',
        phone: '+819012345678',
        tags: ['vip'],
        customFields: { skin: 'dry' },
        metrics: {
          ordersCount: 2,
          totalSpent: 2 * 1800 + 1800 + 3 * 400,
          averageOrderValue: (2 * 1800 + 1800 + 3 * 400) / 2,
          firstOrderAt: '2026-01-02T03:04:05.000Z',
          lastOrderAt: '2026-02-01T18:04:05.000Z',
        },
        orders: {
          totalCount: 2,
          pageInfo: { hasNextPage: false },
          nodes: [
            {
              externalId: 'O-2',
              status: 'PLACED',
              total: 3000,
              lines: [
                { quantity: 1, unitPrice: 1800, total: 1800, product: { externalId: 'SKU-1', name: 'Ethiopia beans 200g' } },
                { quantity: 3, unitPrice: 400, total: 1200, product: { externalId: 'SKU-2', name: 'Paper filters' } },
              ],
            },
            { externalId: 'O-1', total: 3600 },
          ],
        },
      });
      const byId = await admin(`query($id: ID!) { customer(id: $id) { externalId } }`, { id: data!.customer.id });
      expect(byId.data?.customer).toEqual({ externalId: 'C-1' });
    });

    it('updates the metrics when an order is recorded again as cancelled', async () => {
      const order = { externalId: 'O-X', customerExternalId: 'C-2', placedAt: '2026-03-01T00:00:00Z', lines: [{ productExternalId: 'SKU-1', quantity: 1, unitPrice: 1800 }] };
      await admin(RECORD_ORDERS, { orders: [order] });
      expect((await admin(CUSTOMER_360, { externalId: 'C-2' })).data?.customer.metrics).toMatchObject({ ordersCount: 1, totalSpent: 1800 });
      const cancelled = await admin(RECORD_ORDERS, { orders: [{ ...order, status: 'CANCELLED' }] });
      expect(cancelled.data?.recordOrders).toMatchObject({ updated: 1 });
      const after = (await admin(CUSTOMER_360, { externalId: 'C-2' })).data?.customer;
      expect(after.metrics).toMatchObject({ ordersCount: 0, totalSpent: 0, firstOrderAt: null, lastOrderAt: null });
      expect(after.orders.nodes).toMatchObject([{ externalId: 'O-X', status: 'CANCELLED' }]);
    });

    it('stores the good items of a batch and reports the bad one by index and field', async () => {
      const res = await admin(RECORD_ORDERS, {
        orders: [
          { externalId: 'B-1', customerExternalId: 'C-3', placedAt: '2026-01-01T00:00:00Z', lines: [{ productExternalId: 'SKU-1', quantity: 1, unitPrice: 10 }] },
          { externalId: 'B-2', customerExternalId: 'C-3', placedAt: 'not a date', lines: [{ productExternalId: 'SKU-1', quantity: -1, unitPrice: 10 }] },
          { externalId: 'B-3', customerExternalId: 'C-3', placedAt: '2026-01-03T00:00:00Z', lines: [{ productExternalId: 'SKU-2', quantity: 1, unitPrice: 20 }] },
        ],
      });
      expect(res.data?.recordOrders).toMatchObject({ received: 3, created: 2, failed: 1 });
      expect(res.data?.recordOrders.errors).toEqual([
        { index: 1, field: 'placedAt', externalId: 'B-2', message: expect.any(String) },
        { index: 1, field: 'lines[0].quantity', externalId: 'B-2', message: 'Must be at least 1.' },
      ]);
      expect((await admin(CUSTOMER_360, { externalId: 'C-3' })).data?.customer.metrics).toMatchObject({ ordersCount: 2, totalSpent: 30 });
    });

    it('pages through customers with a total count', async () => {
      await admin(UPSERT_CUSTOMERS, { customers: Array.from({ length: 7 }, (_, i) => ({ externalId: `P-${i}` })) });
      const seen: string[] = [];
      let after: string | null = null;
      let total = 0;
      do {
        const res = await admin(`query($after: String) { customers(first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { externalId } } }`, { after });
        const page = res.data!.customers;
        total = page.totalCount;
        seen.push(...page.nodes.map((n: { externalId: string }) => n.externalId));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(seen.length).toBe(total);
      expect(new Set(seen).size).toBe(total);
      expect(seen).toEqual(expect.arrayContaining(['C-1', 'P-0', 'P-6']));
    });

    it('previews, saves and lists segments, with coded errors that point at the mistake', async () => {
      await admin(RECORD_ORDERS, {
        orders: [
          { externalId: 'S-O1', customerExternalId: 'S-1', placedAt: '2026-01-01T00:00:00Z', lines: [{ productExternalId: 'SKU-1', quantity: 10, unitPrice: 5000 }] },
          { externalId: 'S-O2', customerExternalId: 'S-2', placedAt: '2026-01-01T00:00:00Z', lines: [{ productExternalId: 'SKU-2', quantity: 10, unitPrice: 5000 }] },
        ],
      });
      await admin(UPSERT_CUSTOMERS, {
        customers: [
          { externalId: 'S-1', tags: ['segment-test'] },
          { externalId: 'S-2', tags: ['segment-test'] },
        ],
      });
      const query = "customer_tags CONTAINS 'segment-test' AND products_purchased MATCHES (product = 'SKU-1')";

      const preview = await admin(`query($q: String!) { segmentPreview(query: $q, first: 5) { count customers { externalId } } }`, { q: query });
      expect(preview.data?.segmentPreview).toEqual({ count: 1, customers: [{ externalId: 'S-1' }] });

      const bad = await admin(`query($q: String!) { segmentPreview(query: $q) { count } }`, { q: "customer_tags CONTAINS 'x' AND\n  amount_spnt > 5" });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'SEGMENT_QUERY_INVALID', line: 2, column: 3, suggestion: 'amount_spent' });

      const created = await admin(`mutation($q: String!) { createSegment(name: "Beans buyers", query: $q) { id name query count } }`, { q: query });
      expect(created.data?.createSegment).toMatchObject({ name: 'Beans buyers', count: 1 });
      const id = created.data!.createSegment.id;
      const listed = await admin(`{ segments { totalCount nodes { id name } } }`);
      expect(listed.data?.segments.nodes).toContainEqual({ id, name: 'Beans buyers' });
      const one = await admin(`query($id: ID!) { segment(id: $id) { count customers(first: 10) { totalCount nodes { externalId segments { name } } } } }`, { id });
      expect(one.data?.segment).toEqual({ count: 1, customers: { totalCount: 1, nodes: [{ externalId: 'S-1', segments: [{ name: 'Beans buyers' }] }] } });
      const filtered = await admin(`query($q: String!) { customers(segment: $q, first: 10) { totalCount nodes { externalId } } }`, { q: "customer_tags CONTAINS 'segment-test'" });
      expect(filtered.data?.customers.totalCount).toBe(2);
      expect(filtered.data?.customers.nodes.map((n: { externalId: string }) => n.externalId).sort()).toEqual(['S-1', 'S-2']);

      const renamed = await admin(`mutation($id: ID!) { updateSegment(id: $id, query: "customer_tags CONTAINS 'segment-test'") { count } }`, { id });
      expect(renamed.data?.updateSegment).toEqual({ count: 2 });
      expect((await admin(`mutation($id: ID!) { deleteSegment(id: $id) }`, { id })).data).toEqual({ deleteSegment: true });
      expect((await admin(`mutation($id: ID!) { deleteSegment(id: $id) }`, { id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    it('serves the 360 metrics and the analytics reports', async () => {
      await mount.kokyaku.refresh();
      const res = await admin(`{
        customer(externalId: "C-1") { metrics { isRepeatCustomer averageDaysBetweenOrders decile rfm { recency frequency monetary group } } }
        rfmReport { customers groups { group customers } }
        decileReport(from: "2025-01-01", to: "2026-12-31") { customers deciles { decile customers share } }
        cohortReport(from: "2026-01-01", to: "2026-12-31") { cohorts { cohort customers retention { month rate } } }
        repeatPurchaseReport { customers repeatCustomers repeatRate }
        kpiReport(from: "2026-01-01", to: "2026-03-31", period: MONTH) { periods { start revenue orders } }
        campaignReport(cost: 100, revenue: 250) { roi roas }
        clvModel { calibrationEnd }
      }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.customer.metrics).toMatchObject({ isRepeatCustomer: true, rfm: { group: expect.any(String) } });
      expect(res.data?.customer.metrics.rfm.recency).toBeGreaterThanOrEqual(1);
      const groups = res.data?.rfmReport.groups as { group: string; customers: number }[];
      expect(groups.reduce((s, g) => s + g.customers, 0)).toBe(res.data?.rfmReport.customers);
      expect(res.data?.decileReport.deciles.reduce((s: number, d: { share: number }) => s + d.share, 0)).toBeCloseTo(1, 10);
      expect(res.data?.kpiReport.periods[0]).toMatchObject({ start: '2026-01-01' });
      expect(res.data?.campaignReport).toEqual({ roi: 1.5, roas: 2.5 });
      // Too little history for a trustworthy fit in this small shop.
      expect(res.data?.clvModel).toBeNull();
      const bad = await admin(`{ decileReport(from: "yesterday") { customers } }`);
      expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('recommends with reasons, and evaluates on the shop history for admins', async () => {
      const res = await admin(`{
        together: recommendations(productExternalId: "SKU-1", first: 3) { score reason strategy product { externalId name } }
        forCustomer: recommendations(customerExternalId: "C-1", strategy: FOR_CUSTOMER, first: 3) { reason strategy product { externalId } }
        popular: recommendations(strategy: POPULAR, first: 2, windowDays: 3650) { reason product { externalId } }
      }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.together[0]).toMatchObject({ strategy: 'BOUGHT_TOGETHER', product: { externalId: 'SKU-2' } });
      expect(res.data?.together[0].reason).toMatch(/^Bought together with Ethiopia beans 200g in \d+ orders$/);
      expect(res.data?.popular.length).toBeGreaterThan(0);
      const bad = await admin(`{ recommendations(strategy: BOUGHT_TOGETHER) { reason } }`);
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'productExternalId' });
      const evaluation = await admin(
        `{ recommendationEvaluation(k: 5, blends: [0.5]) { k replayedCustomers repeatShare rows { strategy popularityWeight repeatWeight cycles hitRate recall repeat { recall } explore { recall } } baselines { baseline recall repeat { recall } explore { recall } } blend { popularityWeight repeatWeight cycles measuredAt rows { hitRate } } } }`,
      );
      expect(evaluation.errors).toBeUndefined();
      const { rows, baselines } = evaluation.data?.recommendationEvaluation;
      expect(rows.at(-1)).toMatchObject({ strategy: 'FOR_CUSTOMER', popularityWeight: 0.5, repeatWeight: expect.any(Number), cycles: expect.any(Boolean) });
      for (const r of [...rows, ...baselines]) expect(r.repeat.recall + r.explore.recall).toBeCloseTo(r.recall, 10);
      expect(baselines.map((b: { baseline: string }) => b.baseline)).toEqual(['G_TOPFREQ', 'P_TOPFREQ', 'GP_TOPFREQ', 'ITEM_KNN']);
      // The shop's blend, measured or the default before that, and the comparison it came from.
      const { blend } = evaluation.data?.recommendationEvaluation;
      expect(blend).toMatchObject({ popularityWeight: expect.any(Number), repeatWeight: expect.any(Number), cycles: expect.any(Boolean) });
      // The refresh above measured it: 70 blends compared, the chosen one among them.
      expect(blend.measuredAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(blend.rows).toHaveLength(70);
      const due = await admin(`{ recommendations(customerExternalId: "C-1", strategy: BUY_AGAIN, windowDays: 3650) { strategy dueOn reason } }`);
      expect(due.errors).toBeUndefined();
      // C-1 bought an item in two orders: due again one interval after the last.
      expect(due.data?.recommendations.length).toBeGreaterThan(0);
      for (const r of due.data?.recommendations) {
        expect(r).toMatchObject({ strategy: 'BUY_AGAIN', dueOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
        expect(r.reason).toBe(`Due again around ${r.dueOn}: you buy it about every ${r.reason.match(/every (\d+) day/)?.[1]} day(s)`);
      }
    });

    it('searches customers by phone in any format, name or email, best match first', async () => {
      const upsert = await admin(UPSERT_CUSTOMERS, {
        customers: [
          { externalId: 'C-S', lastName: '山田', firstName: '花子', lastNameKana: 'ヤマダ', firstNameKana: 'ハナコ', phone: '090-8765-4321', email: 'hanako.y@example.jp' },
        ],
      });
      expect(upsert.data?.upsertCustomers.failed).toBe(0);
      const res = await admin(`{
        phone: searchCustomers(query: "+81 90 8765 4321") { nodes { field value rank highlight { start end } customer { externalId } } }
        kana: searchCustomers(query: "やまだはなこ") { nodes { field value customer { externalId lastNameKana } } }
        email: searchCustomers(query: "hanako.y", first: 1) { nodes { field customer { externalId } } pageInfo { hasNextPage } }
      }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.phone.nodes[0]).toMatchObject({ field: 'PHONE', value: '+819087654321', customer: { externalId: 'C-S' }, highlight: { start: 1, end: 13 } });
      expect(res.data?.kana.nodes[0]).toMatchObject({ field: 'KANA', value: 'ヤマダ ハナコ', customer: { externalId: 'C-S', lastNameKana: 'ヤマダ' } });
      expect(res.data?.email.nodes).toEqual([{ field: 'EMAIL', customer: { externalId: 'C-S' } }]);
      const bad = await admin(`{ searchCustomers(query: "tanaka", first: 500) { nodes { rank } } }`);
      expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it.runIf(options.sessions)('lets a storefront read recommendations for its signed-in customer only', async () => {
      const shopper = { authorization: 'Bearer shopper-session' };
      await admin(RECORD_ORDERS, {
        orders: [
          { externalId: 'S-O-1', customerExternalId: 'S-1', placedAt: '2026-01-05T00:00:00Z', lines: [{ productExternalId: 'S-SKU', quantity: 1, unitPrice: 500 }] },
          { externalId: 'S-O-2', customerExternalId: 'S-2', placedAt: '2026-01-06T00:00:00Z', lines: [{ productExternalId: 'S-SKU-2', quantity: 1, unitPrice: 700 }] },
        ],
      });
      const own = await send(`{ recommendations(strategy: FOR_CUSTOMER, first: 3, windowDays: 3650) { product { externalId } reason } }`, {}, shopper);
      expect(own.errors).toBeUndefined();
      expect(own.data?.recommendations.length).toBeGreaterThan(0);
      const other = await send(`{ recommendations(customerExternalId: "C-1") { reason } }`, {}, shopper);
      expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const profile = await send(`{ customer(externalId: "S-1") { email } }`, {}, shopper);
      expect(profile.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it.runIf(!options.namespace)('serves the checked-in schema', async () => {
      const res = await admin(getIntrospectionQuery({ specifiedByUrl: true, inputValueDeprecation: true }));
      const served = printSchema(lexicographicSortSchema(buildClientSchema(res.data as IntrospectionQuery)));
      expect(`${served}\n`).toBe(await readFile(new URL('../schema.graphql', import.meta.url), 'utf8'));
    });

    it('gives coded errors: anonymous callers, bad arguments', async () => {
      const anonymous = await send(CUSTOMER_360, { externalId: 'C-1' }, { authorization: 'Bearer wrong' });
      expect(anonymous.data?.customer ?? null).toBeNull();
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const write = await send(UPSERT_PRODUCTS, { products: [{ externalId: 'X', name: 'X' }] });
      expect(write.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const both = await admin(`{ customer(id: "1", externalId: "C-1") { id } }`);
      expect(both.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const cursor = await admin(`{ customers(after: "nope") { nodes { id } } }`);
      expect(cursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
    it.skipIf(Boolean(options.namespace))('answers a browser that opens the endpoint with a page, not a CSRF error', async () => {
      const res = await fetch(mount.url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const page = await res.text();
      // The explorer where the mount serves it, else a short page saying what this is.
      expect(page).toMatch(/Kokyaku GraphQL (API|explorer)/);
      expect(page).not.toMatch(/csrf|stacktrace/i);
      // A GET that is no browser still gets GraphQL's answer.
      const api = await fetch(`${mount.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
      expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it.skipIf(Boolean(options.namespace))("answers transport failures in GraphQL's error shape with a code: a body too large, a body that is not JSON", async () => {
      const post = (body: string) => fetch(mount.url, { method: 'POST', headers: { 'content-type': 'application/json', ...mount.adminHeaders }, body });
      const nan = await post('{"query":"{ __typename }","variables":{"x":NaN}}');
      expect(nan.status).toBe(400);
      expect(await nan.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
      const huge = await post(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(11 * 1024 * 1024) } }));
      expect(huge.status).toBe(413);
      expect(await huge.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/larger than/), extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    });

    it.skipIf(Boolean(options.namespace) || options.probes === false)('answers the health and readiness probes beside the API', async () => {
      const at = (which: string) => fetch(`${mount.url.replace(/\/$/, '')}/${which}`);
      const health = await at('healthz');
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const ready = await at('readyz');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ok: true, ready: true, database: true, pendingMigrations: [] });
    });

    it.runIf(options.hostRoutes)('leaves the host routes alone', async () => {
      const res = await fetch(new URL('/products', mount.url));
      expect(await res.json()).toEqual([{ id: 'shop-1' }]);
    });

    it.runIf(options.links)('serves the message links of journeys: a tracked click, the unsubscribe page and one-click POST, signed SMS callbacks only', async () => {
      const k = mount.kokyaku;
      k.config.messaging.publicUrl = `${new URL(mount.url).origin}${options.links}`;
      const ctx = k.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
      await k.customers.upsert(ctx, [{ externalId: 'L-1', email: 'links@example.jp', emailConsent: true }]);
      const journey = await k.journeys.create(ctx, {
        name: 'Links',
        definition: {
          trigger: { type: 'MANUAL' },
          steps: [{ id: 'mail', type: 'SEND', channel: 'EMAIL', purpose: 'MARKETING', subject: 'New beans', text: 'See https://shop.example/new' }],
        },
      });
      await k.journeys.setStatus(ctx, journey.id, 'ACTIVE');
      await k.journeys.start(ctx, journey.id, { customerExternalIds: ['L-1'] });
      await k.journeys.runDue(ctx);
      const mail = mount.sent!.at(-1)!;
      const click = /(http:\S+\/r\/\S+\/0)/.exec(mail.text)![1]!;
      expect(click.startsWith(k.config.messaging.publicUrl)).toBe(true);
      const followed = await fetch(click, { redirect: 'manual' });
      expect(followed.status).toBe(302);
      expect(followed.headers.get('location')).toBe('https://shop.example/new');
      expect((await fetch(click.replace(/\/r\/[^/]+\//, '/r/nope/'), { redirect: 'manual' })).status).toBe(404);
      const page = await fetch(mail.unsubscribeUrl!);
      expect(await page.text()).toContain('<form method="post">');
      const oneClick = await fetch(mail.unsubscribeUrl!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(oneClick.status).toBe(200);
      expect((await k.privacy.consents(ctx, { externalId: 'L-1' })).find((c) => c.channel === 'EMAIL')).toMatchObject({ granted: false });
      const sms = await fetch(`${k.config.messaging.publicUrl}/sms/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'MessageSid=x&MessageStatus=delivered',
      });
      expect(sms.status).toBe(403);
    });

    // The mount's own tests run after the contract's, on the data it left.
    it.skipIf(!options.console)('serves the staff console beside the API, told where the API is', async () => {
      const console = new URL(options.console!, mount.url);
      const bare = await fetch(console.href.replace(/\/$/, ''), { redirect: 'manual' });
      expect([bare.status, bare.headers.get('location')]).toEqual([308, console.pathname]);
      // A deep link answers the app, which finds its scripts through <base href> and the API through its config.
      const page = await fetch(`${console.href}customers/1`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
      const html = await page.text();
      expect(html).toContain(`<base href="${console.pathname}">`);
      const config = JSON.parse(/<script id="kokyaku-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!) as { graphql: string };
      expect(new URL(config.graphql, console).href).toBe(new URL(mount.url).href);
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
      const asset = await fetch(new URL(script, console));
      expect([asset.status, asset.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await fetch(new URL('assets/not-built.js', console))).status).toBe(404);
      // What the console asks first: who signs in, and the shop's settings.
      const viewer = await admin('{ viewer { roles can { admin contactData } shop { currency } } }');
      expect(viewer.data?.viewer).toEqual({ roles: ['ADMIN'], can: { admin: true, contactData: true }, shop: { currency: 'JPY' } });
    });

    extra?.(() => mount);
  });
}
