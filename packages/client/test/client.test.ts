import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { type StandaloneServer, startStandaloneServer } from '@kokyaku/server';
import { HydrationBoundary, QueryClient, QueryClientProvider, dehydrate } from '@tanstack/react-query';
import { renderToString } from 'react-dom/server';
import { createElement } from 'react';
import TestRenderer, { act } from 'react-test-renderer';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CustomerSearchDocument,
  RecommendationsDocument,
  CreateSegmentDocument,
  Customer360Document,
  RepeatPurchaseReportDocument,
  CustomersDocument,
  KokyakuClientError,
  RecordOrdersDocument,
  SegmentDocument,
  SegmentPreviewDocument,
  createKokyakuClient,
} from '../src/index.js';
import {
  KokyakuProvider,
  prefetchKokyakuQuery,
  useCustomer360Query,
  useCustomerSearchQuery,
  useRecommendationsQuery,
  useRecordOrdersMutation,
  useSegmentPreviewQuery,
} from '../src/react/index.js';

let kokyaku: Kokyaku;
let server: StandaloneServer;
const headers = { authorization: 'Bearer client-token' };

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'EUR' } });
  server = await startStandaloneServer(kokyaku, { port: 0, adminToken: 'client-token' });
});
afterAll(async () => {
  await server?.close();
  await kokyaku?.close();
});

describe('plain typed client', () => {
  it('records orders and reads the 360 view', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const recorded = await client.request(RecordOrdersDocument, {
      orders: [{ externalId: 'o-1', customerExternalId: 'c-1', placedAt: '2026-01-01T10:00:00Z', lines: [{ productExternalId: 'p-1', quantity: 3, unitPrice: 9.99 }] }],
    });
    expect(recorded.recordOrders).toMatchObject({ created: 1, failed: 0, errors: [] });
    const { customer } = await client.request(Customer360Document, { externalId: 'c-1' });
    expect(customer?.metrics).toMatchObject({ ordersCount: 1, totalSpent: 29.97, currency: 'EUR' });
    expect(customer?.orders.nodes[0]?.lines[0]?.product.externalId).toBe('p-1');
  });

  it('previews and saves segments, and reports query errors with their position', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const { segmentPreview } = await client.request(SegmentPreviewDocument, { query: 'amount_spent > 20', first: 5 });
    expect(segmentPreview).toEqual({ count: 1, customers: [expect.objectContaining({ externalId: 'c-1' })] });
    const { createSegment } = await client.request(CreateSegmentDocument, { name: 'Over 20', query: 'amount_spent > 20' });
    const { segment } = await client.request(SegmentDocument, { id: createSegment.id, first: 10 });
    expect(segment?.customers.nodes.map((n) => n.externalId)).toEqual(['c-1']);
    const error = (await client.request(SegmentPreviewDocument, { query: 'amount_spent >> 20' }).catch((e: unknown) => e)) as KokyakuClientError;
    expect(error.code).toBe('SEGMENT_QUERY_INVALID');
    expect(error.errors[0]?.extensions).toMatchObject({ line: 1, column: 15 });
  });

  it('reads analytics reports', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const { repeatPurchaseReport } = await client.request(RepeatPurchaseReportDocument);
    expect(repeatPurchaseReport).toMatchObject({ customers: 1, repeatCustomers: 0, repeatRate: 0 });
  });

  it('reads recommendations with their reasons', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const { recommendations } = await client.request(RecommendationsDocument, { strategy: 'POPULAR', first: 5, windowDays: 3650 });
    expect(recommendations[0]).toMatchObject({ strategy: 'POPULAR', product: { externalId: 'p-1' } });
    expect(recommendations[0]!.reason).toMatch(/^Popular: ordered 1 times in the last 3650 days$/);
  });

  it('searches customers', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const { searchCustomers } = await client.request(CustomerSearchDocument, { query: 'c-1' });
    expect(searchCustomers.nodes[0]).toMatchObject({ field: 'EXTERNAL_ID', value: 'c-1', customer: { externalId: 'c-1' } });
  });

  it('throws a KokyakuClientError with the server code', async () => {
    const anonymous = createKokyakuClient({ url: server.url });
    const error = await anonymous.request(CustomersDocument, { first: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KokyakuClientError);
    expect((error as KokyakuClientError).code).toBe('UNAUTHENTICATED');
  });
});

describe('React hooks', () => {
  it('useRecordOrdersMutation writes and useCustomer360Query reads through the provider', async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const seen: { mutation?: unknown; customer?: unknown } = {};

    function Recorder() {
      const mutation = useRecordOrdersMutation();
      seen.mutation = mutation.data;
      if (mutation.isIdle) {
        mutation.mutate({
          orders: [{ externalId: 'o-h', customerExternalId: 'c-hook', placedAt: '2026-02-01T00:00:00Z', lines: [{ productExternalId: 'p-2', quantity: 1, unitPrice: 5 }] }],
        });
      }
      return null;
    }
    function Profile() {
      const query = useCustomer360Query({ externalId: 'c-hook' });
      seen.customer = query.data?.customer;
      return null;
    }
    const tree = (child: ReturnType<typeof createElement>) => createElement(QueryClientProvider, { client: queryClient }, createElement(KokyakuProvider, { client }, child));

    let renderer!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      renderer = TestRenderer.create(tree(createElement(Recorder)));
    });
    await expect.poll(() => seen.mutation, { timeout: 10_000 }).toMatchObject({ recordOrders: { created: 1 } });
    await act(async () => {
      renderer.update(tree(createElement(Profile)));
    });
    await expect.poll(() => seen.customer, { timeout: 10_000 }).toMatchObject({ externalId: 'c-hook', metrics: { ordersCount: 1, totalSpent: 5 } });

    function Preview() {
      const query = useSegmentPreviewQuery({ query: "products_purchased MATCHES (product = 'p-2')" });
      seen.customer = query.data?.segmentPreview;
      return null;
    }
    await act(async () => {
      renderer.update(tree(createElement(Preview)));
    });
    await expect.poll(() => seen.customer, { timeout: 10_000 }).toMatchObject({ count: 1, customers: [{ externalId: 'c-hook' }] });

    function ForYou() {
      const query = useRecommendationsQuery({ customerExternalId: 'c-hook', strategy: 'FOR_CUSTOMER', first: 3, windowDays: 3650 });
      seen.customer = query.data?.recommendations;
      return null;
    }
    await act(async () => {
      renderer.update(tree(createElement(ForYou)));
    });
    // p-1 is popular (c-1 bought it); c-hook's own p-2 may come back as "buy again".
    await expect.poll(() => (seen.customer as { product: { externalId: string } }[] | undefined)?.map((r) => r.product.externalId), { timeout: 10_000 }).toContain('p-1');

    function Finder() {
      const query = useCustomerSearchQuery({ query: 'c-hook' });
      seen.customer = query.data?.searchCustomers.nodes.map((n) => n.customer.externalId);
      return null;
    }
    await act(async () => {
      renderer.update(tree(createElement(Finder)));
    });
    await expect.poll(() => seen.customer, { timeout: 10_000 }).toEqual(['c-hook']);
    renderer.unmount();
  });
});

describe('server-side rendering', () => {
  it("renders a hook's data in the server HTML from a prefetch, and the browser hydrates without fetching again", async () => {
    const client = createKokyakuClient({ url: server.url, headers });
    let requests = 0;
    const counting = createKokyakuClient({ url: server.url, headers, fetch: (input, init) => (requests++, fetch(input, init)) });
    function Popular() {
      const { data, isPending } = useRecommendationsQuery({ strategy: 'POPULAR', first: 2, windowDays: 3650 });
      if (isPending) return createElement('p', null, 'Loading…');
      return createElement('ul', null, ...(data?.recommendations ?? []).map((r) => createElement('li', { key: r.product.externalId }, r.product.externalId)));
    }
    // On the server: prefetch, render, dehydrate.
    const serverQueries = new QueryClient();
    await prefetchKokyakuQuery(serverQueries, client, useRecommendationsQuery, { strategy: 'POPULAR', first: 2, windowDays: 3650 });
    const page = (queryClient: QueryClient, kokyakuClient: typeof client, child: ReturnType<typeof createElement>) =>
      createElement(QueryClientProvider, { client: queryClient }, createElement(KokyakuProvider, { client: kokyakuClient }, child));
    const html = renderToString(page(serverQueries, client, createElement(Popular)));
    expect(html).toMatch(/^<ul><li>p-\d<\/li>/);
    expect(html).not.toContain('Loading');
    // In the browser: the dehydrated state comes with the page; the hook reads it, no request.
    const state = JSON.parse(JSON.stringify(dehydrate(serverQueries)));
    const browserQueries = new QueryClient({ defaultOptions: { queries: { staleTime: 60_000 } } });
    let renderer!: TestRenderer.ReactTestRenderer;
    await act(async () => {
      renderer = TestRenderer.create(page(browserQueries, counting, createElement(HydrationBoundary, { state }, createElement(Popular))));
    });
    expect(JSON.stringify(renderer.toJSON())).toMatch(/^\{"type":"ul"/);
    renderer.unmount();
    expect(requests).toBe(0);
  });
});
