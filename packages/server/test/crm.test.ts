import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Kokyaku, Role } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kokyakuExpress, type KokyakuRouter } from '../src/express.js';
import { gql } from './helpers.js';

let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let url: string;
/** `x-actor: ROLE:id`, `x-tenant: tenant`. */
const as = (role: Role, tenant = 'default', id = `${role.toLowerCase()}-1`) => ({ 'x-actor': `${role}:${id}`, 'x-tenant': tenant });
const call = (role: Role, query: string, variables: Record<string, unknown> = {}, tenant = 'default') => gql(url, query, variables, as(role, tenant));

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
  const app = express();
  router = await kokyakuExpress(kokyaku, {
    identify: (req) => {
      const [role, id] = String(req.headers['x-actor'] ?? '').split(':');
      return { actor: role ? { id: id!, roles: [role as Role] } : null, tenantId: String(req.headers['x-tenant'] ?? 'default') };
    },
    auditFlushMs: 0,
  });
  app.use('/graphql', router);
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  for (const tenantId of ['default', 'other']) {
    const ctx = kokyaku.context({ tenantId });
    await kokyaku.orders.record(ctx, [
      { externalId: 'o-1', customerExternalId: 'c-1', placedAt: '2026-10-01T00:00:00Z', lines: [{ productExternalId: 'tea', quantity: 2, unitPrice: 1500 }] },
    ]);
  }
});
afterAll(async () => {
  await router?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await kokyaku?.close();
});

const CUSTOMER_ID = `query { customer(externalId: "c-1") { id } }`;

describe('CRM over GraphQL', () => {
  it('runs a customer through the CRM: custom fields, company, note, task, inquiry, deal, score, timeline', async () => {
    const define = await call('ADMIN', `mutation($input: CustomFieldDefinitionInput!) { defineCustomField(input: $input) { id key type options } }`, {
      input: { entity: 'CUSTOMER', key: 'skin_type', type: 'SELECT', options: ['dry', 'oily'] },
    });
    expect(define.errors).toBeUndefined();
    const upsert = await call('ADMIN', `mutation($c: [CustomerInput!]!) { upsertCustomers(customers: $c) { failed errors { index field message } } }`, {
      c: [
        { externalId: 'c-1', email: 'hanako@example.jp', customFields: { skin_type: 'dry' } },
        { externalId: 'c-2', customFields: { skin_type: 'wet' } },
      ],
    });
    expect(upsert.data!.upsertCustomers.errors).toEqual([{ index: 1, field: 'customFields.skin_type', message: 'Must be one of "dry", "oily"; not "wet".' }]);
    const id = (await call('ADMIN', CUSTOMER_ID)).data!.customer.id as string;

    const parent = await call('SUPPORT', `mutation { createCompany(input: { name: "Yamada Holdings" }) { id } }`);
    const child = await call('SUPPORT', `mutation($p: ID) { createCompany(input: { name: "Yamada Tea", parentId: $p }) { id parentId } }`, { p: parent.data!.createCompany.id });
    const childId = child.data!.createCompany.id as string;
    expect(
      (await call('SUPPORT', `mutation($c: ID!, $id: ID) { addCompanyContact(companyId: $c, customerId: $id, title: "Buyer") { title } }`, { c: childId, id })).errors,
    ).toBeUndefined();
    expect((await call('SUPPORT', `mutation($id: ID) { addNote(customerId: $id, body: "Likes sencha.", pinned: true) { id } }`, { id })).errors).toBeUndefined();
    expect(
      (await call('SUPPORT', `mutation($id: ID) { createTask(input: { title: "Call back", customerId: $id, dueAt: "2026-01-01T00:00:00Z" }) { assigneeId } }`, { id })).data!
        .createTask.assigneeId,
    ).toBe('support-1');
    const inquiry = await call(
      'SUPPORT',
      `mutation { openInquiry(input: { customerExternalId: "c-1", orderExternalId: "o-1", channel: EMAIL, subject: "Late delivery", kind: COMPLAINT }) { id status } }`,
    );
    expect(inquiry.data!.openInquiry.status).toBe('OPEN');
    const pipeline = await call(
      'ADMIN',
      `mutation { createPipeline(name: "Wholesale", stages: [{ name: "Lead", probability: 0.2 }, { name: "Won", probability: 1, outcome: WON }]) { id stages { id name } } }`,
    );
    const stages = pipeline.data!.createPipeline.stages as { id: string; name: string }[];
    const deal = await call('SUPPORT', `mutation($input: DealInput!) { createDeal(input: $input) { id outcome } }`, {
      input: { pipelineId: pipeline.data!.createPipeline.id, title: 'Tea for the office', amount: 80000, expectedCloseDate: '2027-01-10', customerId: id, ownerId: 'support-1' },
    });
    const moved = await call('SUPPORT', `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { outcome history { fromStageId toStageId actorId } } }`, {
      id: deal.data!.createDeal.id,
      s: stages[1]!.id,
    });
    expect(moved.data!.moveDeal.outcome).toBe('WON');
    await call('SUPPORT', `mutation($d: ID) { addNote(dealId: $d, body: "Signed.") { id } }`, { d: deal.data!.createDeal.id });
    await call('SUPPORT', `mutation($c: ID) { createTask(input: { title: "Send the contract", companyId: $c }) { id } }`, { c: childId });
    const linked = await call('SUPPORT', `query($d: ID!, $c: ID) { deal(id: $d) { notes { nodes { body } } } company(id: $c) { tasks(status: OPEN) { nodes { title } } } }`, {
      d: deal.data!.createDeal.id,
      c: childId,
    });
    expect(linked.data).toEqual({ deal: { notes: { nodes: [{ body: 'Signed.' }] } }, company: { tasks: { nodes: [{ title: 'Send the contract' }] } } });
    expect(moved.data!.moveDeal.history).toHaveLength(2);
    await call('ADMIN', `mutation { createScoringRule(input: { name: "Complained", activity: INQUIRY, points: -10 }) { id } }`);
    await call('ADMIN', `mutation { createScoringRule(input: { name: "Dry skin", condition: "custom.skin_type = 'dry'", points: 30 }) { id } }`);

    const view = await call(
      'SUPPORT',
      `query($id: ID) {
      customer(id: $id) {
        leadScore { score band }
        customFieldValues { key type text }
        companies { title company { name parent { name revenue { companies contacts orders revenue } } } }
        notes { nodes { body pinned } }
        tasks(status: OPEN) { nodes { title } }
        inquiries { nodes { subject kind } }
        deals { nodes { title outcome } }
        timeline(first: 20) { nodes { kind summary actorId } pageInfo { hasNextPage } }
      }
      tasks(mine: true, overdue: true) { nodes { title } }
      segmentPreview(query: "score >= 20 AND custom.skin_type = 'dry'") { count }
    }`,
      { id },
    );
    expect(view.errors).toBeUndefined();
    const c = view.data!.customer;
    expect(c.leadScore).toEqual({ score: 20, band: 'WARM' });
    expect(c.customFieldValues).toEqual([{ key: 'skin_type', type: 'SELECT', text: 'dry' }]);
    expect(c.companies).toEqual([
      { title: 'Buyer', company: { name: 'Yamada Tea', parent: { name: 'Yamada Holdings', revenue: { companies: 2, contacts: 1, orders: 1, revenue: 3000 } } } },
    ]);
    expect(c.notes.nodes).toEqual([{ body: 'Likes sencha.', pinned: true }]);
    expect(c.inquiries.nodes).toEqual([{ subject: 'Late delivery', kind: 'COMPLAINT' }]);
    expect(c.timeline.nodes.map((e: { kind: string }) => e.kind).sort()).toEqual(['DEAL_STAGE', 'DEAL_STAGE', 'INQUIRY', 'NOTE', 'ORDER', 'TASK']);
    expect(view.data!.tasks.nodes).toEqual([{ title: 'Call back' }]);
    expect(view.data!.segmentPreview.count).toBe(1);
  });

  it('answers a bad write with a coded error naming the field, and writes nothing', async () => {
    const id = (await call('ADMIN', CUSTOMER_ID)).data!.customer.id as string;
    const before = (await call('ADMIN', `query { tasks { nodes { id } } }`)).data!.tasks.nodes.length;
    const task = await call('SUPPORT', `mutation { createTask(input: { title: "Ghost", customerId: "999999" }) { id } }`);
    expect(task.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'customerId' });
    expect((await call('ADMIN', `query { tasks { nodes { id } } }`)).data!.tasks.nodes).toHaveLength(before);
    const deal = (await call('ADMIN', `query { deals { nodes { id stageId } } }`)).data!.deals.nodes[0];
    const move = await call('SUPPORT', `mutation($id: ID!) { moveDeal(id: $id, stageId: "424242") { id } }`, { id: deal.id });
    expect(move.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stageId' });
    expect((await call('ADMIN', `query { deals { nodes { id stageId } } }`)).data!.deals.nodes[0]).toEqual(deal);
    const custom = await call('SUPPORT', `mutation { createCompany(input: { name: "X", size: -3 }) { id } }`);
    expect(custom.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'size' });
    const segment = await call('ADMIN', `query { segmentPreview(query: "custom.skin_type = 'dryy'") { count } }`);
    expect(segment.errors![0]!.extensions).toMatchObject({ code: 'SEGMENT_QUERY_INVALID', suggestion: "'dry'" });
    const note = await call('SUPPORT', `mutation($id: ID) { addNote(customerId: $id, body: "   ") { id } }`, { id });
    expect(note.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    expect((await call('ADMIN', `query($id: ID) { customer(id: $id) { notes { nodes { body } } } }`, { id })).data!.customer.notes.nodes).toHaveLength(1);
  });

  it('checks roles on every CRM operation and hides free text from roles without contact data', async () => {
    const id = (await call('ADMIN', CUSTOMER_ID)).data!.customer.id as string;
    expect((await call('VIEWER', `mutation($id: ID) { addNote(customerId: $id, body: "x") { id } }`, { id })).errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await call('SUPPORT', `mutation { defineCustomField(input: { entity: DEAL, key: "x", type: TEXT }) { id } }`)).errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await call('MARKETER', `mutation { createScoringRule(input: { name: "x", condition: "amount_spent > 1", points: 1 }) { id } }`)).errors![0]!.extensions!.code).toBe(
      'FORBIDDEN',
    );
    expect((await call('STOREFRONT', `query { tasks { nodes { id } } }`)).errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await gql(url, `query { pipelines { id } }`)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    await call('SUPPORT', `mutation($id: ID) { createTask(input: { title: "Follow up", description: "Her sister is sencha-mad too", customerId: $id }) { id } }`, { id });
    const viewer = await call(
      'VIEWER',
      `query($id: ID) { customer(id: $id) { notes { nodes { body pinned } } inquiries { nodes { subject status } } tasks { nodes { title description } } timeline { nodes { kind summary } } } }`,
      { id },
    );
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.customer.notes.nodes).toEqual([{ body: null, pinned: true }]);
    expect(viewer.data!.customer.inquiries.nodes).toEqual([{ subject: null, status: 'OPEN' }]);
    expect(viewer.data!.customer.timeline.nodes.find((e: { kind: string }) => e.kind === 'NOTE').summary).toBe('Note');
    expect(viewer.data!.customer.tasks.nodes.find((t: { title: string }) => t.title === 'Follow up').description).toBeNull();
    expect(JSON.stringify(viewer.data)).not.toContain('sencha');
  });

  it('keeps tenants apart', async () => {
    const other = await call(
      'ADMIN',
      `query { companies { nodes { id } } deals { nodes { id } } tasks { nodes { id } } inquiries { nodes { id } } pipelines { id } scoringRules { id } customFieldDefinitions { id } }`,
      {},
      'other',
    );
    expect(other.errors).toBeUndefined();
    expect(Object.values(other.data!).map((v) => ('nodes' in (v as object) ? (v as { nodes: unknown[] }).nodes : v))).toEqual([[], [], [], [], [], [], []]);
    const mine = (await call('ADMIN', `query { companies { nodes { id } } }`)).data!.companies.nodes[0].id;
    expect((await call('ADMIN', `query($id: ID) { company(id: $id) { id } }`, { id: mine }, 'other')).data!.company).toBeNull();
    const note = await call('ADMIN', `mutation($id: ID) { addNote(companyId: $id, body: "cross-tenant") { id } }`, { id: mine }, 'other');
    expect(note.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'companyId' });
  });
});
