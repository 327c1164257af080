import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kokyaku, KokyakuPlugin, Role } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KokyakuRouter, kokyakuExpress } from '../src/express.js';
import { kokyakuFetchHandler } from '../src/fetch.js';
import { gql } from './helpers.js';

/** The operations the staff console starts from: who am I, the segment vocabulary, staff edits of a customer. */
let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let url: string;
const as = (role: Role) => ({ 'x-role': role });

const vipPlugin: KokyakuPlugin = {
  name: 'vip',
  version: '1.0.0',
  compatibility: '^0.1.0',
  segmentAttributes: [{ name: 'vip_level', type: 'integer', sql: '0', description: 'VIP level.', example: 'vip_level >= 2' }],
};

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' }, plugins: [vipPlugin] });
  const app = express();
  router = await kokyakuExpress(kokyaku, {
    path: '/graphql',
    identify: (req) => ({ actor: req.headers['x-role'] ? { id: `staff-${String(req.headers['x-role']).toLowerCase()}`, roles: [req.headers['x-role'] as Role] } : null }),
  });
  app.use(router);
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const ctx = kokyaku.context();
  await kokyaku.customFields.define(ctx, { entity: 'CUSTOMER', key: 'roast', label: 'Preferred roast', type: 'SELECT', options: ['light', 'dark'] });
  await kokyaku.customers.upsert(ctx, [{ externalId: 'c-1', lastName: '山田', tags: ['old'], customFields: { roast: 'light' } }]);
});
afterAll(async () => {
  await router?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await kokyaku?.close();
});

describe('the console API', () => {
  it('tells each role what it may do, with the shop settings', async () => {
    const query = '{ viewer { id roles can { contactData workWithCustomers manageSegments admin } shop { currency timeZone defaultCountry } } }';
    const expected: Record<string, object> = {
      ADMIN: { contactData: true, workWithCustomers: true, manageSegments: true, admin: true },
      MARKETER: { contactData: true, workWithCustomers: true, manageSegments: true, admin: false },
      SUPPORT: { contactData: true, workWithCustomers: true, manageSegments: false, admin: false },
      VIEWER: { contactData: false, workWithCustomers: false, manageSegments: false, admin: false },
    };
    for (const [role, can] of Object.entries(expected)) {
      const { data } = await gql(url, query, {}, as(role as Role));
      expect(data!.viewer).toEqual({ id: `staff-${role.toLowerCase()}`, roles: [role], can, shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
    }
    expect((await gql(url, query)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("lists the segment vocabulary: core's, the plugins' and the custom fields", async () => {
    const { data } = await gql(
      url,
      '{ segmentLanguage { attributes { name type values } functions { name arguments { name role } } calls { name arguments } customFields { key options } } }',
      {},
      as('VIEWER'),
    );
    const language = data!.segmentLanguage;
    expect(language.attributes).toContainEqual({ name: 'rfm_group', type: 'enum', values: expect.arrayContaining(['CHAMPIONS', 'AT_RISK']) });
    expect(language.attributes).toContainEqual({ name: 'vip_level', type: 'integer', values: [] });
    expect(language.functions.find((f: any) => f.name === 'orders_placed').arguments).toContainEqual({ name: 'sum_amount', role: 'aggregate' });
    expect(language.calls).toEqual([{ name: 'anniversary', arguments: ['birthday', 'first_order_date', 'customer_added_date'] }]);
    expect(language.customFields).toEqual([{ key: 'roast', options: ['light', 'dark'] }]);
  });

  it('lets staff replace tags and merge custom fields, checked like ingestion, and refuses VIEWER', async () => {
    const id = (await kokyaku.customers.findByExternalId(kokyaku.context(), 'c-1'))!.id;
    const UPDATE = 'mutation($id: ID!, $tags: [String!], $customFields: JSON) { updateCustomer(id: $id, tags: $tags, customFields: $customFields) { tags customFields } }';
    const updated = await gql(url, UPDATE, { id, tags: ['vip', '電話対応'], customFields: { roast: 'dark' } }, as('SUPPORT'));
    expect(updated.data!.updateCustomer).toEqual({ tags: ['vip', '電話対応'], customFields: { roast: 'dark' } });
    // Custom fields merge (null removes), tags stay when not given.
    expect((await gql(url, UPDATE, { id, customFields: { roast: null } }, as('SUPPORT'))).data!.updateCustomer).toEqual({ tags: ['vip', '電話対応'], customFields: {} });
    const bad = await gql(url, UPDATE, { id, customFields: { roast: 'medium' } }, as('SUPPORT'));
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'customFields.roast' });
    expect((await gql(url, UPDATE, { id: '999999', tags: [] }, as('ADMIN'))).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(url, UPDATE, { id, tags: [] }, as('VIEWER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The change is audited like every write of a customer.
    const audit = await gql(url, 'query($id: ID!) { auditLog(customerId: $id, action: UPDATE) { nodes { actorId fields } } }', { id }, as('ADMIN'));
    expect(audit.data!.auditLog.nodes[0]).toMatchObject({ actorId: 'staff-support' });
  });

  it('says how to mount the console when a mount cannot know where the API is', async () => {
    const identify = () => ({ actor: null });
    await expect(kokyakuExpress(kokyaku, { console: true, identify })).rejects.toThrow("app.use('/crm', await kokyakuExpress(kokyaku, { path: '/graphql', console: true");
    await expect(kokyakuFetchHandler(kokyaku, { console: true, identify })).rejects.toThrow("{ path: '/crm/graphql', console: true }");
  });
});
