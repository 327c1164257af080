import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { type Kokyaku, type KokyakuContext, KokyakuError, sql, verifyWebhook } from '@kokyaku/core';
import { type TestSmtpServer, createTestKokyaku, startTestSmtp } from '@kokyaku/core/testing';

let kokyaku: Kokyaku;
let smtp: TestSmtpServer;
let provider: http.Server;
/** Requests the local LINE / Twilio / webhook stand-in received. */
const requests: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let providerStatus = 200;
const ctx = (): KokyakuContext => kokyaku.context({ actor: { id: 'staff-1', roles: ['ADMIN'] } });
const line = (sku: string, quantity: number, unitPrice: number) => ({ productExternalId: sku, quantity, unitPrice });
const LINE_USER = `U${'0123456789abcdef'.repeat(2)}`;
const HOUR = 3_600_000;

async function failure(call: Promise<unknown>): Promise<KokyakuError> {
  const error = await call.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(KokyakuError);
  return error as KokyakuError;
}

async function activeJourney(name: string, definition: unknown) {
  const journey = await kokyaku.journeys.create(ctx(), { name, definition });
  return kokyaku.journeys.setStatus(ctx(), journey.id, 'ACTIVE');
}

async function runsOf(journeyId: string) {
  return (await kokyaku.journeys.runs(ctx(), { journeyId })).nodes;
}

beforeAll(async () => {
  smtp = await startTestSmtp();
  provider = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = providerStatus;
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.includes('/Messages.json') ? JSON.stringify({ sid: `SM${requests.length}`, status: 'queued' }) : JSON.stringify({ sentMessages: [{ id: `line-${requests.length}` }] }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(provider.address() as { port: number }).port}`;
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
    shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    messaging: {
      publicUrl: 'https://shop.example/kokyaku',
      email: { smtp: smtp.url, from: '"Kissa Coffee" <hello@kissa.example>' },
      line: { channelAccessToken: 'line-token', apiUrl: base },
      sms: { accountSid: 'AC123', authToken: 'twilio-secret', from: '+815012345678', apiUrl: base },
      webhookSecret: 'whsec-test',
    },
  });
  (globalThis as { providerBase?: string }).providerBase = base;
});
afterAll(async () => {
  await kokyaku?.close();
  await smtp?.close();
  await new Promise((resolve) => provider?.close(resolve));
});

describe('a first order', () => {
  it('sends the thank-you mail with the customer, the order and what goes with it', async () => {
    const c = ctx();
    await kokyaku.products.upsert(c, [
      { externalId: 'beans', name: 'エチオピア 200g', price: 1800 },
      { externalId: 'filter', name: 'ペーパーフィルター', price: 400 },
      { externalId: 'mug', name: 'マグカップ', price: 2200 },
    ]);
    // Earlier buyers: beans go with filters.
    await kokyaku.orders.record(c, [
      { externalId: 'h-1', customerExternalId: 'old-1', placedAt: '2026-01-05T00:00:00Z', lines: [line('beans', 1, 1800), line('filter', 1, 400)] },
      { externalId: 'h-2', customerExternalId: 'old-2', placedAt: '2026-01-06T00:00:00Z', lines: [line('beans', 1, 1800), line('filter', 2, 400)] },
    ]);
    await kokyaku.recommendations.rebuild(c);
    const journey = await activeJourney('Thank you for your first order', {
      trigger: { type: 'ORDER_PLACED', firstOrder: true },
      steps: [
        {
          id: 'thanks',
          type: 'SEND',
          channel: 'EMAIL',
          purpose: 'TRANSACTIONAL',
          subject: '{{ customer.salutation }}、ご注文ありがとうございます',
          text: `{{ customer.salutation }}

ご注文 {{ order.number }} を承りました。
{% for l in order.lines %}{{ l.name }} × {{ l.quantity }}
{% endfor %}合計 {{ order.total | money }}

一緒に買われている商品:
{% render 'recommendations', items: recommendations.bought_together %}
https://shop.example/orders/{{ order.number }}`,
        },
      ],
    });
    // An order from before the journey was activated (an import) starts nothing.
    await kokyaku.customers.upsert(c, [{ externalId: 'hanako', email: 'hanako@example.jp', firstName: '花子', lastName: '山田' }]);
    await kokyaku.orders.record(c, [{ externalId: 'o-old', customerExternalId: 'old-3', placedAt: '2025-06-01T00:00:00Z', lines: [line('mug', 1, 2200)] }]);
    await kokyaku.orders.record(c, [{ externalId: 'o-1001', customerExternalId: 'hanako', placedAt: new Date(), lines: [line('beans', 2, 1800)] }]);
    const runs = await runsOf(journey.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('ACTIVE');

    await kokyaku.journeys.runDue(c);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['hanako@example.jp']);
    expect(mail!.subject).toBe('山田 花子 様、ご注文ありがとうございます');
    expect(mail!.text).toContain('ご注文 o-1001 を承りました。');
    expect(mail!.text).toContain('エチオピア 200g × 2');
    expect(mail!.text).toContain('合計 ￥3,600');
    expect(mail!.text).toContain('- ペーパーフィルター');
    // Links are tracked: the mail points at the redirect, which leads to the page.
    const tracked = /https:\/\/shop\.example\/kokyaku\/r\/([0-9a-f-]{36})\/0/.exec(mail!.text);
    expect(tracked).not.toBeNull();
    expect(await kokyaku.followLink(tracked![1]!, 0)).toBe('https://shop.example/orders/o-1001');
    expect(await kokyaku.followLink(tracked![1]!, 7)).toBeNull();

    const [run] = await runsOf(journey.id);
    expect(run!.status).toBe('COMPLETED');
    const steps = await kokyaku.journeys.runSteps(c, run!.id);
    expect(steps.map((s) => [s.stepId, s.outcome])).toEqual([['thanks', 'SENT']]);
    const { nodes: messages } = await kokyaku.journeys.messages(c, { journeyId: journey.id });
    expect(messages).toMatchObject([{ channel: 'EMAIL', status: 'SENT', recipient: 'hanako@example.jp', clicks: 1 }]);

    // The second order is not a first order; the same order again starts nothing either.
    await kokyaku.orders.record(c, [{ externalId: 'o-1002', customerExternalId: 'hanako', placedAt: new Date(), lines: [line('mug', 1, 2200)] }]);
    await kokyaku.orders.record(c, [{ externalId: 'o-1001', customerExternalId: 'hanako', placedAt: new Date(), lines: [line('beans', 2, 1800)] }]);
    await kokyaku.journeys.runDue(c);
    expect(await runsOf(journey.id)).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });
});

describe('waits', () => {
  it('follows up 48 hours after an inquiry, on a clock the test moves', async () => {
    const c = ctx();
    const sent = smtp.mails.length;
    const journey = await activeJourney('Inquiry follow-up', {
      trigger: { type: 'INQUIRY_OPENED' },
      steps: [
        { id: 'wait', type: 'WAIT', hours: 48 },
        { id: 'ask', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', subject: 'その後いかがでしょうか', text: '{{ customer.salutation }}\nお問い合わせの件、解決しましたか?' },
      ],
    });
    await kokyaku.customers.upsert(c, [{ externalId: 'taro', email: 'taro@example.jp', firstName: '太郎', lastName: '佐藤' }]);
    await kokyaku.inquiries.open(c, { customerExternalId: 'taro', channel: 'EMAIL', subject: '届いた豆が違う' });
    const opened = new Date();
    await kokyaku.journeys.runDue(c, { now: opened });
    const [run] = await runsOf(journey.id);
    expect(run!.status).toBe('WAITING');
    expect(Math.abs(run!.wakeAt.getTime() - (opened.getTime() + 48 * HOUR))).toBeLessThan(5_000);

    await kokyaku.journeys.runDue(c, { now: new Date(opened.getTime() + 47 * HOUR) });
    expect(smtp.mails).toHaveLength(sent);
    await kokyaku.journeys.runDue(c, { now: new Date(opened.getTime() + 49 * HOUR) });
    const mails = await smtp.waitFor(sent + 1);
    expect(mails.at(-1)).toMatchObject({ to: ['taro@example.jp'], subject: 'その後いかがでしょうか' });
    expect(mails.at(-1)!.text).toContain('佐藤 太郎 様');
    expect((await runsOf(journey.id))[0]!.status).toBe('COMPLETED');
    expect((await kokyaku.journeys.runSteps(c, run!.id)).map((s) => s.outcome)).toEqual(['WAITING', 'WAITED', 'SENT']);
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });
});
