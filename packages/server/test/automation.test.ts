import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { type AutomationWorker, type Kokyaku, type Role, sql } from '@kokyaku/core';
import { type TestSmtpServer, createTestKokyaku, startTestSmtp } from '@kokyaku/core/testing';
import express from 'express';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KokyakuRouter, kokyakuExpress } from '../src/express.js';
import { messagingRoutes } from '../src/messaging-routes.js';
import { gql } from './helpers.js';

let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let worker: AutomationWorker;
let smtp: TestSmtpServer;
let base: string;
const as = (role: Role, tenant = 'default') => ({ 'x-actor': `${role}:${role.toLowerCase()}-1`, 'x-tenant': tenant });
const call = (role: Role, query: string, variables: Record<string, unknown> = {}, tenant = 'default') => gql(`${base}/graphql`, query, variables, as(role, tenant));

const THANK_YOU = {
  trigger: { type: 'ORDER_PLACED', firstOrder: true },
  steps: [
    {
      id: 'thanks',
      type: 'SEND',
      channel: 'EMAIL',
      purpose: 'MARKETING',
      subject: '{{ customer.salutation }}、ありがとうございます',
      text: 'ご注文 {{ order.number }}、合計 {{ order.total | money }}。\nレビューはこちら: https://shop.example/review/{{ order.number }}\n配信停止: {{ unsubscribe_url }}',
    },
  ],
};

beforeAll(async () => {
  smtp = await startTestSmtp();
  const app = express();
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
    shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    messaging: {
      publicUrl: `${base}/kokyaku`,
      email: { smtp: smtp.url, from: 'shop@example.jp' },
      sms: { accountSid: 'AC1', authToken: 'twilio-secret', from: '+815000000000', apiUrl: 'http://127.0.0.1:9', statusCallback: `${base}/kokyaku/sms/status` },
    },
    automation: { sweepSeconds: 0.5, staleSeconds: 5 },
  });
  router = await kokyakuExpress(kokyaku, {
    identify: (req) => {
      const [role, id] = String(req.headers['x-actor'] ?? '').split(':');
      return { actor: role ? { id: id!, roles: [role as Role] } : null, tenantId: String(req.headers['x-tenant'] ?? 'default') };
    },
    auditFlushMs: 0,
  });
  app.use('/graphql', router);
  app.use('/kokyaku', messagingRoutes(kokyaku));
  worker = await kokyaku.startWorker();
});
afterAll(async () => {
  await worker?.stop();
  await router?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await kokyaku?.close();
  await smtp?.close();
});

describe('journeys over GraphQL and HTTP', () => {
  it('builds a journey, and the worker mails a first buyer; the tracked link and the unsubscribe link work', async () => {
    const created = await call('MARKETER', `mutation($input: JourneyInput!) { createJourney(input: $input) { id status version definition } }`, {
      input: { name: 'Thank you', definition: THANK_YOU },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createJourney.id as string;
    expect(created.data!.createJourney).toMatchObject({ status: 'DRAFT', version: 1, definition: { reentry: 'ONCE' } });
    expect((await call('MARKETER', `mutation($id: ID!) { activateJourney(id: $id) { status activatedAt } }`, { id })).data!.activateJourney.status).toBe('ACTIVE');

    await call('ADMIN', `mutation($c: [CustomerInput!]!) { upsertCustomers(customers: $c) { failed } }`, {
      c: [{ externalId: 'aiko', email: 'aiko@example.jp', firstName: '愛子', lastName: '小林', emailConsent: true, preferredChannel: 'EMAIL' }],
    });
    const recorded = await call('ADMIN', `mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { created } }`, {
      o: [{ externalId: 'web-1', customerExternalId: 'aiko', placedAt: new Date().toISOString(), lines: [{ productExternalId: 'tea', quantity: 3, unitPrice: 1200 }] }],
    });
    expect(recorded.data!.recordOrders.created).toBe(1);

    // The worker picks the run up on its own (NOTIFY from the order's commit).
    const [mail] = await smtp.waitFor(1, 15_000);
    expect(mail!.subject).toBe('小林 愛子 様、ありがとうございます');
    expect(mail!.text).toContain('ご注文 web-1、合計 ￥3,600。');
    // The mail is accepted a moment before the run's step commits: wait for the record.
    for (let i = 0; i < 100 && (await call('ADMIN', `query { messages { nodes { status } } }`)).data!.messages.nodes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const link = new RegExp(`${base}/kokyaku/r/[0-9a-f-]{36}/0`).exec(mail!.text)![0];
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://shop.example/review/web-1');
    expect((await fetch(`${base}/kokyaku/r/00000000-0000-4000-8000-000000000000/0`, { redirect: 'manual' })).status).toBe(404);

    const unsubscribe = new RegExp(`${base}/kokyaku/u/[0-9a-f-]{36}`).exec(mail!.text)![0];
    expect(mail!.raw.get('list-unsubscribe')).toBe(`<${unsubscribe}>`);
    // Opening the link changes nothing (scanners open links); the button (or a one-click POST) does.
    expect(await (await fetch(unsubscribe)).text()).toContain('<form method="post">');
    const consent = `query { customerConsents(externalId: "aiko") { channel granted source } }`;
    const before = (await call('ADMIN', consent)).data!.customerConsents as unknown[];
    const posted = await fetch(unsubscribe, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(posted.status).toBe(200);
    const after = (await call('ADMIN', consent)).data!.customerConsents as { channel: string; granted: boolean; source: string }[];
    expect(after.length).toBe(before.length + 1);
    expect(after[0]).toMatchObject({ channel: 'EMAIL', granted: false, source: expect.stringContaining('unsubscribe link') });

    const report = await call(
      'VIEWER',
      `query($id: ID!) { journey(id: $id) { report { runs completed sent clicks uniqueClickers } runs { nodes { status steps { stepId outcome } } } } }`,
      { id },
    );
    expect(report.data!.journey.report).toEqual({ runs: 1, completed: 1, sent: 1, clicks: 1, uniqueClickers: 1 });
    expect(report.data!.journey.runs.nodes).toEqual([{ status: 'COMPLETED', steps: [{ stepId: 'thanks', outcome: 'SENT' }] }]);

    // What was sent to whom is contact data: masked for VIEWER.
    const messages = `query { customer(externalId: "aiko") { preferredChannel messages { nodes { channel status recipient subject body } } timeline(kinds: [MESSAGE]) { nodes { summary } } } }`;
    expect((await call('VIEWER', messages)).data!.customer).toMatchObject({
      preferredChannel: 'EMAIL',
      messages: { nodes: [{ channel: 'EMAIL', status: 'SENT', recipient: 'a***@example.jp', subject: null, body: null }] },
    });
    expect((await call('MARKETER', messages)).data!.customer.messages.nodes[0]).toMatchObject({ recipient: 'aiko@example.jp', subject: '小林 愛子 様、ありがとうございます' });

    // An order after the mail is the journey's (last touch); the ROI report takes it from there.
    await call('ADMIN', `mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { created } }`, {
      o: [
        {
          externalId: 'web-2',
          customerExternalId: 'aiko',
          placedAt: new Date(Date.now() + 60_000).toISOString(),
          lines: [{ productExternalId: 'tea', quantity: 5, unitPrice: 1200 }],
        },
      ],
    });
    const roi = await call('VIEWER', `query($id: ID!) { campaignReport(cost: 2000, journeyId: $id) { revenue orders roi roas } }`, { id });
    expect(roi.data!.campaignReport).toEqual({ revenue: 6000, orders: 1, roi: 2, roas: 3 });
  });

  it('refuses a bad definition with the field, and checks roles and tenants', async () => {
    const bad = await call('MARKETER', `mutation($input: JourneyInput!) { createJourney(input: $input) { id } }`, {
      input: { name: 'Broken', definition: { trigger: { type: 'MANUAL' }, steps: [{ id: 'c', type: 'CONDITION', query: 'number_of_orders >>> 2' }] } },
    });
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'SEGMENT_QUERY_INVALID', field: 'definition.steps[0].query' });

    const create = `mutation($input: JourneyInput!) { createJourney(input: $input) { id } }`;
    const input = { input: { name: 'Role check', definition: { trigger: { type: 'MANUAL' }, steps: [{ id: 'e', type: 'END' }] } } };
    for (const role of ['VIEWER', 'SUPPORT', 'STOREFRONT'] as const) {
      expect((await call(role, create, input)).errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    expect((await gql(`${base}/graphql`, create, input)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(
      (await call('MARKETER', `mutation { updateMessagingSettings(input: { quietHoursStart: "21:00", quietHoursEnd: "09:00" }) { quietHoursStart } }`)).errors![0]!.extensions!
        .code,
    ).toBe('FORBIDDEN');
    const settings = await call(
      'ADMIN',
      `mutation { updateMessagingSettings(input: { frequencyCapMax: 3, frequencyCapDays: 7 }) { frequencyCapMax frequencyCapDays configuredChannels channelOrder } }`,
    );
    expect(settings.data!.updateMessagingSettings).toEqual({
      frequencyCapMax: 3,
      frequencyCapDays: 7,
      configuredChannels: ['EMAIL', 'SMS'],
      channelOrder: ['LINE', 'EMAIL', 'SMS'],
    });

    // Another shop sees none of it, and cannot start this shop's journey.
    const list = `query { journeys { nodes { id name } } messages { nodes { id } } journeyRuns { nodes { id } } }`;
    expect((await call('ADMIN', list, {}, 'other')).data).toEqual({ journeys: { nodes: [] }, messages: { nodes: [] }, journeyRuns: { nodes: [] } });
    const mine = (await call('ADMIN', list)).data!.journeys.nodes as { id: string }[];
    const start = await call('ADMIN', `mutation($id: ID!) { startJourney(id: $id, customerExternalIds: ["aiko"]) { started } }`, { id: mine[0]!.id }, 'other');
    expect(start.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('previews a template', async () => {
    const preview = await call('MARKETER', `query($input: MessagePreviewInput!) { previewMessage(input: $input) { subject text } }`, {
      input: { customerExternalId: 'aiko', orderExternalId: 'web-1', subject: '{{ customer.salutation }}', text: '{{ order.lines[0].quantity }}点 {{ order.total | money }}' },
    });
    expect(preview.data!.previewMessage).toEqual({ subject: '小林 愛子 様', text: '3点 ￥3,600' });
    const broken = await call('MARKETER', `query($input: MessagePreviewInput!) { previewMessage(input: $input) { text } }`, {
      input: { customerExternalId: 'aiko', text: '{% for %}' },
    });
    expect(broken.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template.text' });
  });
});

describe("Twilio's delivery reports", () => {
  it('marks an SMS delivered or failed from a signed status callback, and refuses an unsigned one', async () => {
    const ctx = kokyaku.context();
    const [customer] = await sql<{ id: string }>(ctx.em, `select id::text as id from kokyaku.customers where external_id = 'aiko'`);
    await sql(
      ctx.em,
      `insert into kokyaku.messages (tenant_id, customer_id, idempotency_key, channel, purpose, status, recipient, provider_id, sent_at)
      values ('default', $1::bigint, 'sms-test-1', 'SMS', 'TRANSACTIONAL', 'SENT', '+819000000000', 'SM123', now()),
             ('default', $1::bigint, 'sms-test-2', 'SMS', 'TRANSACTIONAL', 'SENT', '+819000000000', 'SM124', now())`,
      [customer!.id],
    );
    const callback = `${base}/kokyaku/sms/status`;
    const post = (params: Record<string, string>, signature?: string) =>
      fetch(callback, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
        body: new URLSearchParams(params),
      });
    const sign = (params: Record<string, string>, token = 'twilio-secret') =>
      createHmac('sha1', token)
        .update(
          callback +
            Object.keys(params)
              .sort()
              .map((k) => `${k}${params[k]}`)
              .join(''),
        )
        .digest('base64');
    const delivered = { MessageSid: 'SM123', MessageStatus: 'delivered', AccountSid: 'AC1' };
    expect((await post(delivered)).status).toBe(403);
    expect((await post(delivered, sign(delivered, 'wrong-token'))).status).toBe(403);
    expect((await post(delivered, sign(delivered))).status).toBe(204);
    const failed = { MessageSid: 'SM124', MessageStatus: 'undelivered', ErrorCode: '30003', AccountSid: 'AC1' };
    expect((await post(failed, sign(failed))).status).toBe(204);
    const rows = await sql<{ provider_id: string; status: string; error: string | null; delivered: boolean }>(
      ctx.em,
      `select provider_id, status, error, delivered_at is not null as delivered from kokyaku.messages where provider_id in ('SM123', 'SM124') order by provider_id`,
    );
    expect(rows).toEqual([
      { provider_id: 'SM123', status: 'DELIVERED', error: null, delivered: true },
      { provider_id: 'SM124', status: 'FAILED', error: 'Twilio error 30003', delivered: false },
    ]);
  });
});

describe('the worker and the database', () => {
  it('carries on after every database connection is cut (as in a PostgreSQL restart)', async () => {
    const created = await call('MARKETER', `mutation($input: JourneyInput!) { createJourney(input: $input) { id } }`, {
      input: {
        name: 'After a restart',
        definition: {
          trigger: { type: 'MANUAL' },
          reentry: 'EVERY_TIME',
          steps: [{ id: 'm', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', subject: 'still here', text: 'ok' }],
        },
      },
    });
    const id = created.data!.createJourney.id as string;
    await call('MARKETER', `mutation($id: ID!) { activateJourney(id: $id) { id } }`, { id });
    // Every connection of this database goes, the worker's, its queue's and its listener's
    // included: what clients see when PostgreSQL restarts.
    const admin = new pg.Client({ connectionString: kokyaku.databaseUrl });
    await admin.connect();
    const cut = await admin.query(`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    await admin.end();
    expect(cut.rows[0].n).toBeGreaterThan(2);
    const sent = smtp.mails.length;
    // The first statements after the cut may fail (and are retried); the run still goes out once.
    for (let i = 0; i < 5; i++) {
      const started = await call('MARKETER', `mutation($id: ID!) { startJourney(id: $id, customerExternalIds: ["aiko"], key: "after-restart") { started } }`, { id });
      if (!started.errors) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const mails = await smtp.waitFor(sent + 1, 30_000);
    expect(mails.filter((m) => m.subject === 'still here')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.mails.filter((m) => m.subject === 'still here')).toHaveLength(1);
  }, 60_000);
});
