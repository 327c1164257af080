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
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
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
      res.end(
        req.url?.includes('/Messages.json')
          ? JSON.stringify({ sid: `SM${requests.length}`, status: 'queued' })
          : JSON.stringify({ sentMessages: [{ id: `line-${requests.length}` }] }),
      );
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
      // The stand-in receivers listen on this machine.
      allowPrivateWebhooks: true,
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
        {
          id: 'ask',
          type: 'SEND',
          channel: 'EMAIL',
          purpose: 'TRANSACTIONAL',
          subject: 'その後いかがでしょうか',
          text: '{{ customer.salutation }}\nお問い合わせの件、解決しましたか?',
        },
      ],
    });
    await kokyaku.customers.upsert(c, [{ externalId: 'taro', email: 'taro@example.jp', firstName: '太郎', lastName: '佐藤' }]);
    // An inquiry recorded now but opened last month (an import) starts nothing.
    await kokyaku.inquiries.open(c, { customerExternalId: 'taro', channel: 'EMAIL', subject: '古い問い合わせ', openedAt: new Date(Date.now() - 30 * 24 * HOUR) });
    expect(await runsOf(journey.id)).toHaveLength(0);
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

describe('consent, quiet hours and the frequency cap', () => {
  const promo = (name: string) =>
    activeJourney(name, {
      trigger: { type: 'MANUAL' },
      reentry: 'EVERY_TIME',
      steps: [
        { id: 'promo', type: 'SEND', channel: 'EMAIL', purpose: 'MARKETING', subject: '新しい豆が入りました', text: '{{ customer.salutation }}\n配信停止: {{ unsubscribe_url }}' },
      ],
    });

  it('withholds marketing from a customer without consent, and sends transactional mail anyway', async () => {
    const c = ctx();
    const sent = smtp.mails.length;
    await kokyaku.customers.upsert(c, [{ externalId: 'no-consent', email: 'nc@example.jp', lastName: '鈴木' }]);
    const journey = await promo('Promo without consent');
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['no-consent'] });
    await kokyaku.journeys.runDue(c);
    expect(smtp.mails).toHaveLength(sent);
    const { nodes } = await kokyaku.journeys.messages(c, { journeyId: journey.id });
    expect(nodes).toMatchObject([{ status: 'WITHHELD', reason: 'NO_CONSENT', channel: 'EMAIL' }]);
    const [run] = await runsOf(journey.id);
    expect(run!.status).toBe('COMPLETED');
    expect((await kokyaku.journeys.runSteps(c, run!.id))[0]).toMatchObject({ outcome: 'WITHHELD', detail: { reason: 'NO_CONSENT' } });

    // With consent it goes, with a one-click unsubscribe header and link that work.
    await kokyaku.privacy.recordConsent(c, { externalId: 'no-consent' }, { channel: 'EMAIL', granted: true, source: 'checkout form' });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['no-consent'] });
    await kokyaku.journeys.runDue(c);
    const mail = (await smtp.waitFor(sent + 1)).at(-1)!;
    expect(mail.raw.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.raw.get('list-unsubscribe')).toMatch(/^<https:\/\/shop\.example\/kokyaku\/u\/[0-9a-f-]{36}>$/);
    const token = /\/u\/([0-9a-f-]{36})/.exec(mail.text)![1]!;
    expect(await kokyaku.unsubscribe(token)).toMatchObject({ channel: 'EMAIL' });
    expect(await kokyaku.privacy.mayMarket(c, { externalId: 'no-consent' }, 'EMAIL')).toBe(false);
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['no-consent'] });
    await kokyaku.journeys.runDue(c);
    expect(smtp.mails).toHaveLength(sent + 1);
    expect((await kokyaku.journeys.messages(c, { journeyId: journey.id })).nodes.map((m) => m.status)).toEqual(['WITHHELD', 'SENT', 'WITHHELD']);
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('holds marketing during quiet hours and sends it when they end', async () => {
    const c = ctx();
    const sent = smtp.mails.length;
    await kokyaku.journeys.updateSettings(c, { quietHoursStart: '21:00', quietHoursEnd: '09:00' });
    await kokyaku.customers.upsert(c, [{ externalId: 'night-owl', email: 'owl@example.jp', lastName: '夜', emailConsent: true }]);
    const journey = await promo('Promo at night');
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['night-owl'] });
    // 23:00 in Tokyo on the next day (the run is due from now on).
    const night = new Date(Date.now() + 24 * HOUR);
    const tokyoNight = new Date(Date.UTC(night.getUTCFullYear(), night.getUTCMonth(), night.getUTCDate(), 14, 0));
    await kokyaku.journeys.runDue(c, { now: tokyoNight });
    const [run] = await runsOf(journey.id);
    expect(run!.status).toBe('WAITING');
    const nine = new Date(tokyoNight.getTime() + 10 * HOUR); // 09:00 Tokyo
    expect(run!.wakeAt.toISOString()).toBe(nine.toISOString());
    await kokyaku.journeys.runDue(c, { now: new Date(nine.getTime() - 60_000) });
    expect(smtp.mails).toHaveLength(sent);
    await kokyaku.journeys.runDue(c, { now: nine });
    await smtp.waitFor(sent + 1);
    expect((await kokyaku.journeys.runSteps(c, run!.id)).map((s) => [s.outcome, s.detail.reason ?? null])).toEqual([
      ['DEFERRED', 'QUIET_HOURS'],
      ['SENT', null],
    ]);
    await kokyaku.journeys.updateSettings(c, { quietHoursStart: null, quietHoursEnd: null });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('caps marketing per customer: the message over the cap is withheld', async () => {
    const c = ctx();
    await kokyaku.journeys.updateSettings(c, { frequencyCapMax: 2, frequencyCapDays: 7 });
    await kokyaku.customers.upsert(c, [{ externalId: 'popular', email: 'popular@example.jp', lastName: '人気', emailConsent: true }]);
    const journey = await promo('Promo thrice');
    const sent = smtp.mails.length;
    for (let i = 0; i < 3; i++) {
      await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['popular'] });
      await kokyaku.journeys.runDue(c);
    }
    expect(smtp.mails).toHaveLength(sent + 2);
    expect((await kokyaku.journeys.messages(c, { journeyId: journey.id })).nodes.map((m) => [m.status, m.reason])).toEqual([
      ['WITHHELD', 'FREQUENCY_CAP'],
      ['SENT', null],
      ['SENT', null],
    ]);
    // Transactional mail is not capped; eight days later marketing goes again.
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['popular'] });
    await kokyaku.journeys.runDue(c, { now: new Date(Date.now() + 8 * 24 * HOUR) });
    expect(smtp.mails).toHaveLength(sent + 3);
    // Per step: what it sent and withheld, and why (the console draws the journey with these).
    expect((await kokyaku.journeys.report(c, journey.id)).steps).toEqual([
      { stepId: 'promo', waiting: 0, sent: 3, withheld: 1, withheldByReason: [{ reason: 'FREQUENCY_CAP', count: 1 }] },
    ]);
    await kokyaku.journeys.updateSettings(c, { frequencyCapMax: null, frequencyCapDays: null });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });
});

describe('channels', () => {
  it('routes PREFERRED to LINE, falls back to SMS, and posts the exact provider requests', async () => {
    const c = ctx();
    requests.length = 0;
    await kokyaku.customers.upsert(c, [
      { externalId: 'line-fan', lastName: '伊藤', firstName: '愛', lineUserId: LINE_USER, preferredChannel: 'LINE', phone: '090-1234-5678' },
      { externalId: 'sms-only', lastName: '高橋', phone: '080-2222-3333' },
    ]);
    const journey = await activeJourney('Shipping notice', {
      trigger: { type: 'MANUAL' },
      steps: [
        { id: 'notice', type: 'SEND', channel: 'PREFERRED', fallback: ['SMS'], purpose: 'TRANSACTIONAL', text: '{{ customer.salutation }}、{{ data.item }}を発送しました。' },
      ],
    });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['line-fan', 'sms-only'], data: { item: 'コーヒー豆' } });
    await kokyaku.journeys.runDue(c);
    expect(requests).toHaveLength(2);
    const lineCall = requests.find((r) => r.path === '/v2/bot/message/push')!;
    expect(lineCall.headers.authorization).toBe('Bearer line-token');
    expect(lineCall.headers['x-line-retry-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(JSON.parse(lineCall.body)).toEqual({ to: LINE_USER, messages: [{ type: 'text', text: '伊藤 愛 様、コーヒー豆を発送しました。' }] });
    const smsCall = requests.find((r) => r.path === '/2010-04-01/Accounts/AC123/Messages.json')!;
    expect(smsCall.headers.authorization).toBe(`Basic ${Buffer.from('AC123:twilio-secret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(smsCall.body))).toEqual({ To: '+818022223333', Body: '高橋 様、コーヒー豆を発送しました。', From: '+815012345678' });
    const messages = (await kokyaku.journeys.messages(c, { journeyId: journey.id })).nodes;
    expect(messages.map((m) => [m.channel, m.status, m.recipient]).sort()).toEqual([
      ['LINE', 'SENT', LINE_USER],
      ['SMS', 'SENT', '+818022223333'],
    ]);
    // Twilio's delivery report marks the SMS delivered.
    expect(await kokyaku.journeys.recordDelivery(c, { channel: 'SMS', providerId: 'SM2', status: 'DELIVERED' })).toBe(true);
    expect((await kokyaku.journeys.report(c, journey.id)).delivered).toBe(1);
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('retries a provider error, and records a refusal as FAILED without stopping the run', async () => {
    const c = ctx();
    requests.length = 0;
    await kokyaku.customers.upsert(c, [{ externalId: 'line-2', lastName: '林', lineUserId: `U${'f'.repeat(32)}` }]);
    const journey = await activeJourney('LINE then tag', {
      trigger: { type: 'MANUAL' },
      steps: [
        { id: 'push', type: 'SEND', channel: 'LINE', purpose: 'TRANSACTIONAL', text: 'こんにちは' },
        { id: 'tag', type: 'TAG', add: ['line-tried'] },
      ],
    });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['line-2'] });
    providerStatus = 500;
    const first = await kokyaku.journeys.runDue(c);
    expect(first.failed).toBe(1);
    const [run] = await runsOf(journey.id);
    expect(run!.status).toBe('ACTIVE');
    expect(run!.error).toContain('LINE answered 500');
    // The same retry key both times: LINE drops a repeat.
    providerStatus = 200;
    await kokyaku.journeys.runDue(c);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers['x-line-retry-key']).toBe(requests[1]!.headers['x-line-retry-key']);
    expect((await runsOf(journey.id))[0]!.status).toBe('COMPLETED');

    // 400 (a bad user id): no use retrying. The message is FAILED, the run goes on.
    providerStatus = 400;
    await kokyaku.journeys.updateSettings(c, {});
    await kokyaku.customers.upsert(c, [{ externalId: 'line-3', lastName: '森', lineUserId: `U${'e'.repeat(32)}` }]);
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['line-3'] });
    await kokyaku.journeys.runDue(c);
    providerStatus = 200;
    const runs = await runsOf(journey.id);
    expect(runs[0]!.status).toBe('COMPLETED');
    expect((await kokyaku.customers.findByExternalId(c, 'line-3'))!.tags).toEqual(['line-tried']);
    expect((await kokyaku.journeys.messages(c, { journeyId: journey.id })).nodes[0]).toMatchObject({ status: 'FAILED', error: expect.stringContaining('LINE answered 400') });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('calls a webhook signed with the shared secret', async () => {
    const c = ctx();
    requests.length = 0;
    const base = (globalThis as { providerBase?: string }).providerBase!;
    await kokyaku.customers.upsert(c, [{ externalId: 'hooked', lastName: '中村' }]);
    const journey = await activeJourney('Webhook', { trigger: { type: 'MANUAL' }, steps: [{ id: 'hook', type: 'WEBHOOK', url: `${base}/hooks/kokyaku` }] });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['hooked'], data: { coupon: 'WELCOME10' } });
    await kokyaku.journeys.runDue(c);
    const [call] = requests;
    expect(call!.path).toBe('/hooks/kokyaku');
    expect(verifyWebhook('whsec-test', call!.body, String(call!.headers['kokyaku-signature']))).toBe(true);
    expect(verifyWebhook('other-secret', call!.body, String(call!.headers['kokyaku-signature']))).toBe(false);
    expect(verifyWebhook('whsec-test', call!.body.replace('WELCOME10', 'WELCOME99'), String(call!.headers['kokyaku-signature']))).toBe(false);
    const [run] = await runsOf(journey.id);
    expect(call!.headers['idempotency-key']).toBe(`${run!.id}:0`);
    expect(JSON.parse(call!.body)).toMatchObject({
      type: 'journey.step',
      journey: { id: journey.id, name: 'Webhook', version: 1 },
      run: { id: run!.id, step: 'hook' },
      customer: { externalId: 'hooked' },
      context: { data: { coupon: 'WELCOME10' } },
    });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('refuses webhooks to private addresses unless allowed', async () => {
    const { assertPublicUrl, isPrivateAddress } = await import('../src/automation/channels.js');
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1']) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '203.0.113.9', '2001:db8::1']) expect(isPrivateAddress(ip), ip).toBe(false);
    await expect(assertPublicUrl('http://localhost:8080/hook')).rejects.toThrow(/private address/);
    await expect(assertPublicUrl('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/private address/);
    await expect(assertPublicUrl('http://[::1]:9000/')).rejects.toThrow(/private address/);
    // The request goes to the address that was checked: the name is never resolved again
    // (a name under .invalid cannot resolve at all, yet the pinned request arrives).
    const { postPinned } = await import('../src/automation/channels.js');
    const port = new URL((globalThis as { providerBase?: string }).providerBase!).port;
    requests.length = 0;
    const response = await postPinned(`http://hooks.kokyaku.invalid:${port}/pinned`, '{"a":1}', { 'x-test': '1' }, 5_000, { address: '127.0.0.1', family: 4 });
    expect(response.status).toBe(200);
    expect(requests).toMatchObject([{ path: '/pinned', body: '{"a":1}', headers: { host: `hooks.kokyaku.invalid:${port}`, 'x-test': '1' } }]);
  });
});

describe('segment triggers and the other steps', () => {
  it('wins back a customer entering a segment: condition, tag, task, custom field, and the timeline shows it', async () => {
    const c = ctx();
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'winback_offer', label: 'Win-back offer', type: 'TEXT' });
    const segment = await kokyaku.segments.create(c, { name: 'Big spenders', query: 'amount_spent >= 10000' });
    const journey = await activeJourney('Win back big spenders', {
      trigger: { type: 'SEGMENT_ENTERED', segmentId: segment.id },
      steps: [
        { id: 'vip', type: 'CONDITION', query: 'number_of_orders >= 2', yes: 'tag-vip', no: 'tag-one' },
        { id: 'tag-vip', type: 'TAG', add: ['vip'], next: 'offer' },
        { id: 'tag-one', type: 'TAG', add: ['one-big-order'], next: 'call' },
        { id: 'call', type: 'TASK', title: 'Call about the big first order', dueInDays: 2, priority: 'HIGH', next: 'offer' },
        { id: 'offer', type: 'FIELD', key: 'winback_offer', value: 'coupon-10' },
      ],
    });
    await kokyaku.orders.record(c, [
      { externalId: 'w-1', customerExternalId: 'whale', placedAt: new Date(), lines: [line('mug', 5, 2200)] },
      { externalId: 'w-2', customerExternalId: 'regular', placedAt: new Date(Date.now() - 86_400_000), lines: [line('mug', 1, 2200)] },
      { externalId: 'w-3', customerExternalId: 'regular', placedAt: new Date(), lines: [line('beans', 5, 1800)] },
    ]);
    await kokyaku.journeys.runDue(c);
    const runs = await runsOf(journey.id);
    expect(runs.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const whale = (await kokyaku.customers.findByExternalId(c, 'whale'))!;
    const regular = (await kokyaku.customers.findByExternalId(c, 'regular'))!;
    expect(whale.tags).toEqual(['one-big-order']);
    expect(regular.tags).toEqual(['vip']);
    expect(whale.customFields).toMatchObject({ winback_offer: 'coupon-10' });
    const whaleRun = runs.find((r) => r.customerId === whale.id)!;
    expect(whaleRun.context).toEqual({ segmentId: segment.id });
    expect((await kokyaku.journeys.runSteps(c, whaleRun.id)).map((s) => [s.stepId, s.outcome])).toEqual([
      ['vip', 'NO'],
      ['tag-one', 'TAGGED'],
      ['call', 'TASK_CREATED'],
      ['offer', 'FIELD_SET'],
    ]);
    const tasks = await kokyaku.tasks.list(c, { customerId: whale.id });
    expect(tasks.nodes.map((t) => [t.title, t.priority])).toEqual([['Call about the big first order', 'HIGH']]);
    // Once per customer: leaving and entering again starts nothing new.
    expect(runs).toHaveLength(2);
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });

  it('puts messages on the customer timeline', async () => {
    const c = ctx();
    const hanako = (await kokyaku.customers.findByExternalId(c, 'hanako'))!;
    const page = await kokyaku.timeline.timeline(c, { customerId: hanako.id }, { kinds: ['MESSAGE'] });
    expect(page.nodes.map((n) => n.summary)).toEqual(['Message sent: email "山田 花子 様、ご注文ありがとうございます" (journey Thank you for your first order)']);
    expect(page.nodes[0]!.actorId).toMatch(/^journey:\d+$/);
  });
});

describe('journeys are checked when saved', () => {
  it('names the field of every mistake', async () => {
    const c = ctx();
    const bad = async (definition: unknown) => failure(kokyaku.journeys.create(c, { name: `bad ${Math.random()}`, definition }));
    const send = { id: 's', type: 'SEND', channel: 'EMAIL', purpose: 'MARKETING', text: 'hi' };
    expect((await bad({ trigger: { type: 'SOMETIMES' }, steps: [send] })).details.field).toBe('definition.trigger.type');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [] })).details.field).toBe('definition.steps');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [{ ...send, next: 'nowhere' }] })).details.field).toBe('definition.steps[0].next');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [send, { ...send }] })).message).toContain('Step id "s" is used twice');
    const loop = await bad({
      trigger: { type: 'MANUAL' },
      steps: [
        { id: 'a', type: 'WAIT', hours: 1 },
        { id: 'b', type: 'TAG', add: ['x'], next: 'a' },
      ],
    });
    expect(loop.message).toContain('journeys may not loop');
    expect(
      (
        await bad({
          trigger: { type: 'MANUAL' },
          steps: [
            { id: 'a', type: 'END' },
            { id: 'b', type: 'END' },
          ],
        })
      ).details.field,
    ).toBe('definition.steps[1]');
    const query = await bad({ trigger: { type: 'MANUAL' }, steps: [{ id: 'q', type: 'CONDITION', query: 'number_of_orders >= "many"' }] });
    expect(query.code).toBe('SEGMENT_QUERY_INVALID');
    expect(query.details).toMatchObject({ field: 'definition.steps[0].query', line: 1, column: 21 });
    const template = await bad({ trigger: { type: 'MANUAL' }, steps: [{ ...send, subject: '{% if %}' }] });
    expect(template.details.field).toBe('definition.steps[0].subject');
    expect((await bad({ trigger: { type: 'SEGMENT_ENTERED', segmentId: '999999' }, steps: [send] })).details.field).toBe('definition.trigger.segmentId');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [{ id: 'w', type: 'WAIT', untilTime: '25:00' }] })).details.field).toBe('definition.steps[0].untilTime');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [{ id: 'h', type: 'WEBHOOK', url: 'ftp://x' }] })).details.field).toBe('definition.steps[0].url');
    // Core's action steps are their modules' (TASK the CRM's): checked with the definition, as before.
    const task = await bad({ trigger: { type: 'MANUAL' }, steps: [{ id: 't', type: 'TASK', title: 'Call', colour: 'red' }] });
    expect(task.details.field).toBe('definition.steps[0].colour');
    expect(task.message).toContain('Unknown field "colour"');
    expect((await bad({ trigger: { type: 'MANUAL' }, steps: [{ id: 't', type: 'TASK', title: ' ' }] })).details.field).toBe('definition.steps[0].title');
    expect((await bad({ trigger: { type: 'ORDER_PLACED', minTotal: 10.5 }, steps: [send] })).details.field).toBe('definition.trigger.minTotal');
    expect(await count('journeys', `name like 'bad %'`)).toBe(0);
  });

  it('versions a definition: runs under way keep theirs', async () => {
    const c = ctx();
    const journey = await activeJourney('Versioned', {
      trigger: { type: 'MANUAL' },
      reentry: 'EVERY_TIME',
      steps: [
        { id: 'w', type: 'WAIT', hours: 1 },
        { id: 't', type: 'TAG', add: ['v1'] },
      ],
    });
    await kokyaku.customers.upsert(c, [{ externalId: 'versioned' }]);
    // An unknown customer is named by index, and nobody is started.
    const unknown = await failure(kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['versioned', 'nobody-at-all'] }));
    expect(unknown.details.field).toBe('customerExternalIds[1]');
    expect(await runsOf(journey.id)).toHaveLength(0);
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['versioned'] });
    await kokyaku.journeys.runDue(c);
    const updated = await kokyaku.journeys.update(c, journey.id, {
      definition: { trigger: { type: 'MANUAL' }, reentry: 'EVERY_TIME', steps: [{ id: 't', type: 'TAG', add: ['v2'] }] },
    });
    expect(updated.version).toBe(2);
    expect((await kokyaku.journeys.versions(c, journey.id)).map((v) => v.version)).toEqual([2, 1]);
    // The same definition again is no new version.
    expect((await kokyaku.journeys.update(c, journey.id, { name: 'Versioned', definition: updated.definition })).version).toBe(2);
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['versioned'] });
    await kokyaku.journeys.runDue(c, { now: new Date(Date.now() + 2 * HOUR) });
    expect((await kokyaku.customers.findByExternalId(c, 'versioned'))!.tags.sort()).toEqual(['v1', 'v2']);
    expect((await runsOf(journey.id)).map((r) => r.version)).toEqual([2, 1]);
    // Lists page by id, newest first.
    const page1 = await kokyaku.journeys.runs(c, { journeyId: journey.id, first: 1 });
    const page2 = await kokyaku.journeys.runs(c, { journeyId: journey.id, first: 1, after: page1.endCursor });
    expect([page1.hasNextPage, page2.hasNextPage, page1.nodes[0]!.version, page2.nodes[0]!.version]).toEqual([true, false, 2, 1]);
    // Paused, a journey holds its runs where they are; activated again, they go on.
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['versioned'] });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
    expect(await kokyaku.journeys.runDue(c)).toEqual({ advanced: 0, failed: 0 });
    expect((await runsOf(journey.id))[0]).toMatchObject({ status: 'ACTIVE', stepId: 't' });
    await kokyaku.journeys.setStatus(c, journey.id, 'ACTIVE');
    expect(await kokyaku.journeys.runDue(c)).toEqual({ advanced: 1, failed: 0 });
    expect((await runsOf(journey.id))[0]).toMatchObject({ status: 'COMPLETED' });
    // Archived, runs under way are cancelled at their next step.
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['versioned'] });
    await kokyaku.journeys.setStatus(c, journey.id, 'ARCHIVED');
    await kokyaku.journeys.runDue(c);
    expect((await runsOf(journey.id))[0]).toMatchObject({ status: 'CANCELLED', error: 'The journey was archived.' });
    expect((await failure(kokyaku.journeys.setStatus(c, journey.id, 'ACTIVE'))).details.field).toBe('status');
  });
});

describe('templates', () => {
  it('previews with a real customer and order, and stops hostile templates', async () => {
    const c = ctx();
    const preview = await kokyaku.journeys.preview(c, {
      customerExternalId: 'hanako',
      orderExternalId: 'o-1001',
      subject: '{{ customer.salutation }}へ',
      text: '{{ order.total | money }} / {{ customer.orders_count }}回目',
      html: '<p>{{ customer.name }} {{ data.note }}</p>',
      data: { note: '<script>alert(1)</script>' },
    });
    expect(preview).toEqual({ subject: '山田 花子 様へ', text: '￥3,600 / 2回目', html: '<p>山田 花子 &lt;script&gt;alert(1)&lt;/script&gt;</p>' });
    const hostile = async (text: string) => failure(kokyaku.journeys.preview(c, { customerExternalId: 'hanako', text }));
    expect((await hostile('{% for i in (1..100000000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}')).message).toMatch(/limit|exceeded/i);
    expect((await hostile(`{% assign s = 'xxxxxxxxxx' %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}{{ s }}`)).message).toMatch(/limit|exceeded/i);
    expect((await hostile(`{% include '/etc/passwd' %}`)).message).toMatch(/not found|ENOENT|Failed to lookup/i);
    expect((await hostile('{{ customer.name | nosuchfilter }}')).details.field).toBe('template.text');
    // Only the data's own properties: nothing of the prototype chain is reachable.
    expect((await kokyaku.journeys.preview(c, { customerExternalId: 'hanako', text: '{{ customer.constructor }}{{ customer.__proto__ }}{{ data.constructor.name }}x' })).text).toBe(
      'x',
    );
  });
});

describe('measurement', () => {
  it('attributes an order after a message to the journey, last touch within the window, and feeds the ROI report', async () => {
    const c = ctx();
    await kokyaku.customers.upsert(c, [{ externalId: 'buyer-back', email: 'back@example.jp', lastName: '戻', emailConsent: true }]);
    const journey = await activeJourney('Come back', {
      trigger: { type: 'MANUAL' },
      steps: [{ id: 'm', type: 'SEND', channel: 'EMAIL', purpose: 'MARKETING', subject: '戻ってきて', text: 'https://shop.example/sale' }],
    });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['buyer-back'] });
    await kokyaku.journeys.runDue(c);
    const mail = smtp.mails.at(-1)!;
    const token = /\/r\/([0-9a-f-]{36})\/0/.exec(mail.text)![1]!;
    expect(await kokyaku.followLink(token, 0)).toBe('https://shop.example/sale');
    expect(await kokyaku.followLink(token, 0)).toBe('https://shop.example/sale');
    await kokyaku.orders.record(c, [
      { externalId: 'back-1', customerExternalId: 'buyer-back', placedAt: new Date(Date.now() + 60_000), lines: [line('beans', 1, 1800)] },
      // Past the five-day window: not attributed.
      { externalId: 'back-2', customerExternalId: 'buyer-back', placedAt: new Date(Date.now() + 6 * 24 * HOUR), lines: [line('mug', 1, 2200)] },
    ]);
    const report = await kokyaku.journeys.report(c, journey.id);
    expect(report).toMatchObject({
      runs: 1,
      completed: 1,
      sent: 1,
      clicks: 2,
      uniqueClickers: 1,
      attributedOrders: 1,
      attributedRevenue: 1800,
      conversionRate: 1,
      attributionDays: 5,
    });
    // Days in the shop's time zone: today holds the message, tomorrow holds nothing.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
    const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date(Date.now() + 24 * HOUR));
    expect(await kokyaku.journeys.report(c, journey.id, { from: today, to: today })).toMatchObject({ sent: 1, attributedOrders: 1, attributedRevenue: 1800 });
    expect(await kokyaku.journeys.report(c, journey.id, { from: tomorrow })).toMatchObject({ runs: 0, sent: 0, attributedOrders: 0 });
    expect((await failure(kokyaku.journeys.report(c, journey.id, { from: '2026-13-01' }))).details.field).toBe('from');
    const roi = await kokyaku.analytics.campaignReport(c, { cost: 600, revenue: report.attributedRevenue });
    expect(roi).toMatchObject({ revenue: 1800, roi: 2, roas: 3 });
    await kokyaku.journeys.setStatus(c, journey.id, 'PAUSED');
  });
});

describe('privacy', () => {
  it('erasure empties the messages, stops journeys under way, and the export holds both', async () => {
    const c = ctx();
    const exported = await kokyaku.privacy.exportCustomer(c, { externalId: 'no-consent' });
    expect((exported.messages as unknown[]).length).toBe(3);
    expect(exported.journeyRuns).toHaveLength(3);
    const journey = await activeJourney('Long wait', {
      trigger: { type: 'MANUAL' },
      steps: [
        { id: 'w', type: 'WAIT', days: 30 },
        { id: 'e', type: 'END' },
      ],
    });
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: ['no-consent'], data: { secret: 'personal' } });
    await kokyaku.journeys.runDue(c);
    await kokyaku.privacy.eraseCustomer(c, { externalId: 'no-consent' });
    const id = (await sql<{ id: string }>(c.em, `select customer_id::text as id from kokyaku.journey_runs where journey_id = $1::bigint`, [journey.id]))[0]!.id;
    const messages = await sql<{ recipient: string | null; body: string; subject: string | null }>(
      c.em,
      `select recipient, body, subject from kokyaku.messages where customer_id = $1::bigint`,
      [id],
    );
    expect(messages.length).toBe(3);
    expect(messages.every((m) => m.recipient === null && m.body === '(erased)')).toBe(true);
    const [run] = await runsOf(journey.id);
    expect(run).toMatchObject({ status: 'CANCELLED', error: 'The customer was erased.', context: {} });
    // An old unsubscribe link of an erased customer still answers, and records nothing.
    const token = (await sql<{ token: string }>(c.em, `select token::text as token from kokyaku.messages where customer_id = $1::bigint limit 1`, [id]))[0]!.token;
    const consents = await count('consents', `customer_id = ${Number(id)}`);
    expect(await kokyaku.unsubscribe(token)).toMatchObject({ channel: 'EMAIL', customerId: id });
    expect(await count('consents', `customer_id = ${Number(id)}`)).toBe(consents);
  });
});

async function count(table: string, where = 'true'): Promise<number> {
  return (await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.${table} where tenant_id = 'default' and ${where}`))[0]!.n;
}

describe('the other triggers', () => {
  it('starts on an event of a type with matching properties, on an order over an amount, and on leaving a segment', async () => {
    const c = ctx();
    const tag = (name: string) => [{ id: 't', type: 'TAG', add: [name] }];
    const onEvent = await activeJourney('Abandoned cart', {
      trigger: { type: 'EVENT', eventType: 'checkout_abandoned', properties: { step: 'payment' } },
      reentry: 'EVERY_TIME',
      steps: tag('abandoned'),
    });
    const onBig = await activeJourney('Big order', { trigger: { type: 'ORDER_PLACED', minTotal: 10000 }, reentry: 'EVERY_TIME', steps: tag('big') });
    const segment = await kokyaku.segments.create(c, { name: 'Tagged vip', query: "customer_tags CONTAINS 'vip-x'" });
    const onLeft = await activeJourney('Left vip', { trigger: { type: 'SEGMENT_LEFT', segmentId: segment.id }, steps: tag('was-vip') });
    await kokyaku.customers.upsert(c, [{ externalId: 'trig-1', tags: ['vip-x'] }]);
    await kokyaku.events.track(c, [
      { eventId: 'ev-1', type: 'checkout_abandoned', customerExternalId: 'trig-1', occurredAt: new Date(), properties: { step: 'payment', total: 5000 } },
      { eventId: 'ev-2', type: 'checkout_abandoned', customerExternalId: 'trig-1', occurredAt: new Date(), properties: { step: 'address' } },
      { eventId: 'ev-3', type: 'product_viewed', customerExternalId: 'trig-1', occurredAt: new Date(), properties: { step: 'payment' } },
      // An event from before the journey was activated starts nothing.
      { eventId: 'ev-4', type: 'checkout_abandoned', customerExternalId: 'trig-1', occurredAt: new Date('2025-01-01T00:00:00Z'), properties: { step: 'payment' } },
    ]);
    await kokyaku.orders.record(c, [
      { externalId: 'trig-o1', customerExternalId: 'trig-1', placedAt: new Date(), lines: [line('mug', 1, 2200)] },
      { externalId: 'trig-o2', customerExternalId: 'trig-1', placedAt: new Date(), lines: [line('mug', 5, 2200)] },
    ]);
    await kokyaku.customers.upsert(c, [{ externalId: 'trig-1', tags: [] }]);
    expect((await runsOf(onEvent.id)).map((r) => r.context)).toEqual([{ eventId: expect.any(String) }]);
    expect((await runsOf(onBig.id)).map((r) => r.context)).toEqual([{ orderId: expect.any(String) }]);
    expect(await runsOf(onLeft.id)).toHaveLength(1);
    await kokyaku.journeys.runDue(c);
    expect((await kokyaku.customers.findByExternalId(c, 'trig-1'))!.tags.sort()).toEqual(['abandoned', 'big', 'was-vip']);
    for (const j of [onEvent, onBig, onLeft]) await kokyaku.journeys.setStatus(c, j.id, 'PAUSED');
  });

  it('starts on birthdays (29 February on the 28th in other years), first-order anniversaries and N days after the last order, once a day', async () => {
    const c = ctx();
    const tag = (name: string) => [{ id: 't', type: 'TAG', add: [name] }];
    const birthday = await activeJourney('Birthday', { trigger: { type: 'DATE', date: 'BIRTHDAY' }, reentry: 'EVERY_TIME', steps: tag('birthday') });
    const anniversary = await activeJourney('Anniversary', { trigger: { type: 'DATE', date: 'FIRST_ORDER_ANNIVERSARY' }, reentry: 'EVERY_TIME', steps: tag('anniversary') });
    const lapsed = await activeJourney('30 days after', { trigger: { type: 'DATE', date: 'DAYS_AFTER_LAST_ORDER', days: 30 }, steps: tag('lapsing') });
    await kokyaku.customers.upsert(c, [
      { externalId: 'bd-1', birthday: '1990-03-15' },
      { externalId: 'bd-leap', birthday: '2000-02-29' },
      { externalId: 'bd-other', birthday: '1990-03-16' },
    ]);
    await kokyaku.orders.record(c, [
      // First order a year ago (Tokyo dates), and the last one 30 days before 2027-03-15.
      { externalId: 'an-1', customerExternalId: 'an-1', placedAt: '2026-03-14T16:00:00Z', lines: [line('mug', 1, 2200)] },
      { externalId: 'la-1', customerExternalId: 'la-1', placedAt: '2027-02-13T03:00:00Z', lines: [line('mug', 1, 2200)] },
    ]);
    const ran = async (now: string) => {
      await kokyaku.journeys.runDue(c, { now: new Date(now) });
      const byJourney = async (id: string) => (await Promise.all((await runsOf(id)).map(async (r) => (await kokyaku.customers.findById(c, r.customerId))!.externalId))).sort();
      return { birthday: await byJourney(birthday.id), anniversary: await byJourney(anniversary.id), lapsed: await byJourney(lapsed.id) };
    };
    // 2027-03-15 09:00 in Tokyo.
    expect(await ran('2027-03-15T00:00:00Z')).toEqual({ birthday: ['bd-1'], anniversary: ['an-1'], lapsed: ['la-1'] });
    // The same day again starts nothing twice; the next day, nobody's day.
    expect(await ran('2027-03-15T05:00:00Z')).toEqual({ birthday: ['bd-1'], anniversary: ['an-1'], lapsed: ['la-1'] });
    expect(await ran('2027-03-16T05:00:00Z')).toEqual({ birthday: ['bd-1', 'bd-other'], anniversary: ['an-1'], lapsed: ['la-1'] });
    // 2027 is not a leap year: 29 February birthdays are on the 28th.
    expect((await ran('2027-02-28T01:00:00Z')).birthday).toEqual(['bd-1', 'bd-leap', 'bd-other']);
    // 2028 is: on the 28th nothing for them, on the 29th their birthday.
    const leapRuns = async () => (await runsOf(birthday.id)).filter((r) => r.context.date && String(r.context.date).startsWith('2028')).length;
    await ran('2028-02-28T01:00:00Z');
    expect(await leapRuns()).toBe(0);
    await ran('2028-02-29T01:00:00Z');
    expect(await leapRuns()).toBe(1);
    await kokyaku.journeys.setStatus(c, birthday.id, 'PAUSED');
    await kokyaku.journeys.setStatus(c, anniversary.id, 'PAUSED');
    await kokyaku.journeys.setStatus(c, lapsed.id, 'PAUSED');
  });
});

describe('a new shop', () => {
  it('sends its first eight mails side by side, none of them late: the shop settings row is made once and read by all', async () => {
    const tenant = (): KokyakuContext => kokyaku.context({ tenantId: 'first-sends', actor: { id: 'staff-1', roles: ['ADMIN'] } });
    const c = tenant();
    const customers = Array.from({ length: 8 }, (_, i) => ({ externalId: `fs-${i}`, email: `first-${i}@example.jp`, emailConsent: true }));
    await kokyaku.customers.upsert(c, customers);
    const journey = await kokyaku.journeys.create(c, {
      name: 'First sends',
      definition: { trigger: { type: 'MANUAL' }, steps: [{ id: 'hello', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', subject: 'Welcome', text: 'Hello' }] },
    });
    await kokyaku.journeys.setStatus(c, journey.id, 'ACTIVE');
    await kokyaku.journeys.start(c, journey.id, { customerExternalIds: customers.map((x) => x.externalId) });
    const runs = (await kokyaku.journeys.runs(c, { journeyId: journey.id })).nodes;
    expect(runs).toHaveLength(8);
    // Eight workers, each in its own transaction, take the shop's first sends at once.
    const states = await Promise.all(runs.map((r) => kokyaku.journeys.engine.advance(tenant(), r.id)));
    expect(states).toEqual(Array(8).fill('COMPLETED'));
    const sent = await sql<{ n: number }>(c.em, `select count(*)::int as n from kokyaku.messages where tenant_id = 'first-sends' and status = 'SENT'`);
    expect(sent[0]!.n).toBe(8);
    const settings = await sql<{ n: number }>(c.em, `select count(*)::int as n from kokyaku.messaging_settings where tenant_id = 'first-sends'`);
    expect(settings[0]!.n).toBe(1);
  });
});
