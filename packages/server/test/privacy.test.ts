import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Kokyaku, type Role, SYSTEM, bindTenant, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KokyakuRouter, kokyakuExpress, shopifyPrivacyWebhooks } from '../src/express.js';
import { createLogger } from '../src/logger.js';
import { gql } from './helpers.js';

const SECRET = 'shpss_test_secret';
let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let base: string;
let url: string;
const logLines: string[] = [];
const delivered: { shopDomain: string; customerId: string; data: Record<string, any> }[] = [];
const as = (role: Role, id = `${role.toLowerCase()}-1`) => ({ 'x-actor': `${role}:${id}` });

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const app = express();
  router = await kokyakuExpress(kokyaku, {
    identify: (req) => {
      const [role, id] = String(req.headers['x-actor'] ?? '').split(':');
      return { actor: role ? { id: id!, roles: [role as Role] } : null, tenantId: typeof req.headers['x-tenant'] === 'string' ? req.headers['x-tenant'] : undefined };
    },
    logger,
    auditFlushMs: 0,
  });
  app.use('/graphql', router);
  app.use(
    '/webhooks/shopify',
    shopifyPrivacyWebhooks(kokyaku, {
      secret: SECRET,
      logger,
      tenantForShop: (domain) => (domain === 'leaving.myshopify.com' ? 'leaving' : undefined),
      onDataRequest: (request) => void delivered.push(request),
    }),
  );
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `${base}/graphql`;
  for (const tenantId of ['default', 'leaving']) {
    const ctx = kokyaku.context({ tenantId });
    await kokyaku.customers.upsert(ctx, [
      { externalId: '7001', email: 'yui.tanaka@example.jp', phone: '080-2222-3333', firstName: '結衣', lastName: '田中', birthday: '1995-02-03' },
      { externalId: '7002', email: 'ken@example.jp', firstName: 'Ken' },
    ]);
    await kokyaku.orders.record(ctx, [
      { externalId: 'w-1', customerExternalId: '7001', placedAt: new Date('2026-02-01T00:00:00Z'), lines: [{ productExternalId: 'soap', quantity: 3, unitPrice: 800 }] },
      { externalId: 'w-2', customerExternalId: '7002', placedAt: new Date('2026-02-02T00:00:00Z'), lines: [{ productExternalId: 'soap', quantity: 1, unitPrice: 800 }] },
    ]);
  }
});

afterAll(async () => {
  await router?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await kokyaku?.close();
});

/** POSTs a Shopify webhook signed with `secret`. */
async function webhook(topic: string, payload: unknown, secret = SECRET) {
  const body = JSON.stringify(payload);
  const hmac = createHmac('sha256', secret).update(body).digest('base64');
  const res = await fetch(`${base}/webhooks/shopify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmac, 'x-shopify-shop-domain': 'shop.myshopify.com' },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the audit log', () => {
  it('records who was shown whose personal fields; masked reads are not personal reads', async () => {
    const read = await gql(url, `{ customer(externalId: "7001") { id email phone firstName } }`, {}, as('SUPPORT', 'agent-9'));
    const id = read.data?.customer.id as string;
    await gql(url, `{ customer(externalId: "7001") { email } }`, {}, as('VIEWER', 'intern-3'));
    const log = await gql(url, `query($id: ID) { auditLog(customerId: $id, action: READ) { nodes { actorId actorRoles action fields requestId } } }`, { id }, as('ADMIN'));
    expect(log.errors).toBeUndefined();
    expect(log.data?.auditLog.nodes).toEqual([{ actorId: 'agent-9', actorRoles: ['SUPPORT'], action: 'READ', fields: ['email', 'phone'], requestId: expect.any(String) }]);
    const denied = await gql(url, `{ auditLog { nodes { id } } }`, {}, as('SUPPORT'));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('privacy requests over GraphQL', () => {
  it('records consent and objections, and exports for admins only', async () => {
    const consent = await gql(
      url,
      `mutation { recordConsent(externalId: "7002", channel: EMAIL, granted: true, source: "newsletter form") { channel granted source actorId } }`,
      {},
      as('MARKETER', 'm-1'),
    );
    expect(consent.data?.recordConsent).toEqual({ channel: 'EMAIL', granted: true, source: 'newsletter form', actorId: 'm-1' });
    const bad = await gql(url, `mutation { recordConsent(externalId: "7002", channel: EMAIL, granted: true, source: "") { channel } }`, {}, as('ADMIN'));
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'source' });
    const objection = await gql(url, `mutation { objectToMarketing(externalId: "7002", source: "reply STOP") { objectedAt } }`, {}, as('SUPPORT'));
    expect(objection.errors).toBeUndefined();
    const view = await gql(
      url,
      `{ customer(externalId: "7002") { emailConsent marketingObjectionAt } customerConsents(externalId: "7002") { channel granted } }`,
      {},
      as('SUPPORT'),
    );
    expect(view.data?.customer.emailConsent).toBe(false);
    expect(view.data?.customer.marketingObjectionAt).toBeTruthy();
    expect(view.data?.customerConsents.filter((c: any) => !c.granted)).toHaveLength(5);
    const viewerExport = await gql(url, `{ customerDataExport(externalId: "7002") }`, {}, as('SUPPORT'));
    expect(viewerExport.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const exported = await gql(url, `{ customerDataExport(externalId: "7002") }`, {}, as('ADMIN'));
    expect(exported.data?.customerDataExport.customer.email).toBe('ken@example.jp');
    expect(exported.data?.customerDataExport.orders).toHaveLength(1);
  });

  it('erases a customer: no table and no log line holds their email or phone afterwards', async () => {
    const erased = await gql(url, `mutation { eraseCustomer(externalId: "7001", reason: "request 2026-11") { customerId erasedAt } }`, {}, as('ADMIN'));
    expect(erased.errors).toBeUndefined();
    const id = erased.data?.eraseCustomer.customerId as string;
    // Staff keep working with the row: it reads as anonymous, with its figures.
    const after = await gql(url, `query($id: ID) { customer(id: $id) { externalId email phone firstName erasedAt metrics { ordersCount totalSpent } } }`, { id }, as('ADMIN'));
    expect(after.data?.customer).toMatchObject({ email: null, phone: null, firstName: null, metrics: { ordersCount: 1, totalSpent: 2400 } });
    expect(after.data?.customer.erasedAt).toBeTruthy();
    const search = await gql(url, `{ searchCustomers(query: "yui.tanaka@example.jp") { nodes { customer { id } } } }`, {}, as('ADMIN'));
    expect(search.data?.searchCustomers.nodes).toEqual([]);

    const values = ['yui.tanaka@example.jp', '+818022223333', '080-2222-3333', '田中', '結衣'];
    const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    const tables = await sql<{ name: string }>(
      em,
      `select relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'kokyaku' and relkind = 'r'`,
    );
    const found: string[] = [];
    for (const { name } of tables) {
      const rows = await sql<{ row: string }>(
        em,
        `select t::text as row from kokyaku.${name} t where tenant_id = 'default' and t::text ilike any (select '%' || v || '%' from jsonb_array_elements_text($1::jsonb) v)`,
        [JSON.stringify(values)],
      ).catch(() =>
        // Tables without a tenant_id (the migrations list) are searched whole.
        sql<{ row: string }>(em, `select t::text as row from kokyaku.${name} t where t::text ilike any (select '%' || v || '%' from jsonb_array_elements_text($1::jsonb) v)`, [
          JSON.stringify(values),
        ]),
      );
      found.push(...rows.map((r) => `${name}: ${r.row}`));
    }
    expect(found).toEqual([]);
    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    for (const value of values) expect(logs).not.toContain(value);
  });
});

describe('Shopify privacy webhooks', () => {
  it('refuses a request without a valid HMAC and changes nothing', async () => {
    const forged = await webhook('customers/redact', { shop_domain: 'shop.myshopify.com', customer: { id: 7002 } }, 'wrong-secret');
    expect(forged.status).toBe(401);
    const ken = await kokyaku.customers.findByExternalId(kokyaku.context(), '7002');
    expect(ken?.email).toBe('ken@example.jp');
  });

  it('answers customers/data_request with the export, and customers/redact by erasing', async () => {
    const request = await webhook('customers/data_request', {
      shop_id: 1,
      shop_domain: 'shop.myshopify.com',
      customer: { id: 7002, email: 'ken@example.jp' },
      orders_requested: [],
    });
    expect(request).toMatchObject({ status: 200, body: { handled: true } });
    expect(delivered.at(-1)?.data.customer.email).toBe('ken@example.jp');
    const unknown = await webhook('customers/redact', { shop_domain: 'shop.myshopify.com', customer: { id: 999, email: 'nobody@example.jp' } });
    expect(unknown).toMatchObject({ status: 200, body: { handled: false } });
    // Found by email when the shop's id is not Shopify's.
    const redact = await webhook('customers/redact', { shop_domain: 'shop.myshopify.com', customer: { id: 123456, email: 'KEN@example.jp' }, orders_to_redact: [] });
    expect(redact).toMatchObject({ status: 200, body: { handled: true } });
    expect(await kokyaku.customers.findByExternalId(kokyaku.context(), '7002')).toBeNull();
    const audit = await kokyaku.audit.list(kokyaku.context(), { action: 'ERASE', actorId: 'shopify-privacy-webhook' });
    expect(audit.nodes).toHaveLength(1);
  });

  it('answers shop/redact by deleting every row of that shop only', async () => {
    const count = async (tenantId: string) => kokyaku.customers.count(kokyaku.context({ tenantId }));
    expect(await count('leaving')).toBe(2);
    const res = await webhook('shop/redact', { shop_id: 2, shop_domain: 'leaving.myshopify.com' });
    expect(res.status).toBe(200);
    expect(await count('leaving')).toBe(0);
    expect(await count('default')).toBe(2);
    const bad = await webhook('orders/create', { shop_domain: 'shop.myshopify.com' });
    expect(bad.status).toBe(400);
  });
});
