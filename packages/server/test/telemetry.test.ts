import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type StandaloneServer, startStandaloneServer } from '../src/standalone.js';
import { gql } from './helpers.js';

/**
 * What an operator sees: Prometheus metrics at /metrics (administrators only) with requests by
 * operation, pools, job queues and refreshes; OpenTelemetry spans through the host's tracer.
 */
const exporter = new InMemorySpanExporter();
let kokyaku: Kokyaku;
let server: StandaloneServer;
const TOKEN = 'telemetry-admin';

beforeAll(async () => {
  // The host's tracer, registered before Kokyaku starts (as an OpenTelemetry SDK would be).
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'));
  server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: TOKEN, console: false });
});

afterAll(async () => {
  await server?.close();
  await kokyaku?.close();
  trace.disable();
  context.disable();
});

const metricsUrl = () => server.url.replace(/\/graphql$/, '/metrics');

it('serves Prometheus metrics to administrators only', async () => {
  expect((await fetch(metricsUrl())).status).toBe(401);
  expect((await fetch(metricsUrl(), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const recorded = await gql(
    server.url,
    `mutation { recordOrders(orders: [{ externalId: "o1", customerExternalId: "c1", placedAt: "2026-01-01T00:00:00Z", lines: [{ productExternalId: "p1", quantity: 1, unitPrice: 100 }] }]) { created } }`,
    {},
    auth,
  );
  expect(recorded.data).toEqual({ recordOrders: { created: 1 } });
  for (let i = 0; i < 3; i++) expect((await gql(server.url, '{ customer(externalId: "c1") { externalId } }', {}, auth)).errors).toBeUndefined();
  expect((await gql(server.url, '{ nope }', {}, auth)).errors).toBeDefined();
  await kokyaku.refresh();

  const res = await fetch(metricsUrl(), { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  // Requests by root field, type and outcome; latency histograms.
  expect(text).toMatch(/kokyaku_graphql_requests_total\{operation="customer",type="query",outcome="ok"\} 3/);
  expect(text).toMatch(/kokyaku_graphql_requests_total\{operation="recordOrders",type="mutation",outcome="ok"\} 1/);
  expect(text).toMatch(/kokyaku_graphql_requests_total\{operation="\(invalid\)",type="unknown",outcome="error"\} 1/);
  expect(text).toMatch(/kokyaku_graphql_request_duration_seconds_count\{operation="customer",type="query"\} 3/);
  // The pool, the job queue, the refresh, and the process.
  expect(text).toMatch(/kokyaku_db_pool_connections\{pool="primary",state="used"\} \d+/);
  expect(text).toMatch(/kokyaku_refresh_duration_seconds_count 1/);
  expect(text).toMatch(/kokyaku_process_resident_memory_bytes \d+/);
  // Never a tenant, an actor or a customer.
  expect(text).not.toMatch(/c1|default|telemetry-admin/);
});

it('traces requests and refreshes through the host tracer', async () => {
  const names = exporter.getFinishedSpans().map((s) => s.name);
  expect(names).toContain('graphql query customer');
  expect(names).toContain('graphql mutation recordOrders');
  expect(names).toContain('kokyaku.refresh');
  expect(names.some((n) => n.startsWith('kokyaku.refresh.'))).toBe(true);
  const refresh = exporter.getFinishedSpans().find((s) => s.name === 'kokyaku.refresh')!;
  const steps = exporter.getFinishedSpans().filter((s) => s.name.startsWith('kokyaku.refresh.'));
  // The steps are children of the refresh (the span is active while they run).
  expect(steps.every((s) => s.parentSpanContext?.spanId === refresh.spanContext().spanId)).toBe(true);
});
