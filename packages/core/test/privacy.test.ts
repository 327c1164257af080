import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, type KokyakuContext, SYSTEM, TENANT_TABLES, bindTenant, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

let kokyaku: Kokyaku;
const staff = { id: 'staff-7', roles: ['ADMIN'] as const };
const ctx = (tenantId = 'default'): KokyakuContext => kokyaku.context({ tenantId, actor: staff });
const system = () => bindTenant(kokyaku.orm.em.fork(), SYSTEM);

const HANAKO = {
  externalId: 'hanako',
  email: 'Hanako.Yamada@Example.jp',
  phone: '090-1234-5678',
  firstName: '花子',
  lastName: '山田',
  firstNameKana: 'ハナコ',
  lastNameKana: 'ヤマダ',
  birthday: '1988-07-14',
  city: '札幌市',
  region: '北海道',
  country: 'JP',
  tags: ['vip'],
  customFields: { skin_type: 'dry', line_id: 'hanako-line' },
  emailConsent: true,
};
/** How her personal data can appear in any table: as given, normalised, or inside JSON. */
const TRACES = ['hanako', 'hanako.yamada@example.jp', '+819012345678', '09012345678', '山田', '花子', 'ヤマダ', '1988-07-14', '札幌', 'hanako-line'];

/** Rows of any table of the kokyaku schema whose text holds one of the values. */
async function traces(values: readonly string[]): Promise<string[]> {
  const em = system();
  const tables = await sql<{ name: string }>(
    em,
    `select relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'kokyaku' and relkind = 'r'`,
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const rows = await sql<{ row: string }>(
      em,
      `select t::text as row from kokyaku.${name} t where t::text ilike any (select '%' || v || '%' from jsonb_array_elements_text($1::jsonb) v)`,
      [JSON.stringify(values)],
    );
    found.push(...rows.map((r) => `${name}: ${r.row}`));
  }
  return found;
}

async function seedShop(tenantId: string): Promise<void> {
  const c = ctx(tenantId);
  await kokyaku.customers.upsert(c, [HANAKO, { externalId: 'taro', email: 'taro@example.jp', firstName: '太郎', tags: ['vip'] }]);
  await kokyaku.orders.record(c, [
    {
      externalId: 'o-1',
      customerExternalId: 'hanako',
      placedAt: new Date('2026-03-01T00:00:00Z'),
      lines: [
        { productExternalId: 'tea', quantity: 2, unitPrice: 1200 },
        { productExternalId: 'cup', quantity: 1, unitPrice: 3000 },
      ],
    },
    { externalId: 'o-2', customerExternalId: 'hanako', placedAt: new Date('2026-04-01T00:00:00Z'), lines: [{ productExternalId: 'tea', quantity: 1, unitPrice: 1200 }] },
    { externalId: 'o-3', customerExternalId: 'taro', placedAt: new Date('2026-04-02T00:00:00Z'), lines: [{ productExternalId: 'cup', quantity: 1, unitPrice: 3000 }] },
  ]);
  await kokyaku.events.track(c, [
    {
      eventId: 'e-1',
      type: 'product_viewed',
      customerExternalId: 'hanako',
      productExternalId: 'tea',
      occurredAt: new Date('2026-04-03T00:00:00Z'),
      properties: { email: 'hanako.yamada@example.jp', page: '/tea' },
    },
  ]);
  await kokyaku.segments.create(c, { name: 'vips', query: `customer_tags CONTAINS 'vip'` });
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
  await seedShop('default');
  await seedShop('other-shop');
  await kokyaku.refresh();
});
afterAll(() => kokyaku?.close());

describe('export', () => {
  it('gives everything held about a customer as JSON, and audits the export', async () => {
    await kokyaku.privacy.recordConsent(ctx(), { externalId: 'hanako' }, { channel: 'LINE', granted: true, source: 'LINE follow' });
    const data = (await kokyaku.privacy.exportCustomer(ctx(), { externalId: 'hanako' })) as Record<string, any>;
    expect(data.customer).toMatchObject({
      external_id: 'hanako',
      email: 'hanako.yamada@example.jp',
      phone: '+819012345678',
      last_name: '山田',
      birthday: '1988-07-14',
      custom_fields: { skin_type: 'dry' },
    });
    expect(data.orders.map((o: any) => [o.external_id, o.total_minor, o.lines.length])).toEqual([
      ['o-1', 5400, 2],
      ['o-2', 1200, 1],
    ]);
    expect(data.orders[0].lines[0]).toMatchObject({ productExternalId: 'tea', quantity: 2, unitPriceMinor: 1200 });
    expect(data.events).toHaveLength(1);
    expect(data.consents.map((c: any) => [c.channel, c.granted, c.source])).toEqual([['LINE', true, 'LINE follow']]);
    expect(data.segments.map((s: any) => s.segment)).toEqual(['vips']);
    expect(data.facts).toMatchObject({ orders_count: 2, total_spent_minor: 6600 });
    expect(data.purchasedProducts.map((p: any) => p.productExternalId)).toEqual(['cup', 'tea']);
    expect(data.accessLog.map((a: any) => a.action)).toContain('CREATE');
    const log = await kokyaku.audit.list(ctx(), { customerId: data.customer.id.toString(), action: 'EXPORT' });
    expect(log.nodes).toHaveLength(1);
    expect(log.nodes[0]).toMatchObject({ actorId: 'staff-7', actorRoles: ['ADMIN'] });
    await expect(kokyaku.privacy.exportCustomer(ctx(), { externalId: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(kokyaku.privacy.exportCustomer(ctx('other-shop'), { id: data.customer.id.toString() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('audit of writes', () => {
  it('names the personal fields each write carried, never their values', async () => {
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'taro', phone: '03-1234-5678' }]);
    const taro = (await kokyaku.customers.findByExternalId(ctx(), 'taro'))!;
    const log = await kokyaku.audit.list(ctx(), { customerId: taro.id });
    expect(log.nodes.map((e) => [e.action, e.fields])).toEqual([
      ['UPDATE', ['phone']],
      ['CREATE', ['email', 'firstName']],
    ]);
    const [leak] = await sql<{ n: number }>(system(), `select count(*)::int as n from kokyaku.audit_log t where t::text like '%taro@%' or t::text like '%1234-5678%'`);
    expect(leak!.n).toBe(0);
  });
});

describe('consent and objection', () => {
  it('keeps the consent history with source and time, and suppresses marketing after an objection', async () => {
    const taro = { externalId: 'taro' };
    expect(await kokyaku.privacy.mayMarket(ctx(), taro, 'EMAIL')).toBe(false);
    await kokyaku.privacy.recordConsent(ctx(), taro, { channel: 'EMAIL', granted: true, source: 'newsletter form', at: new Date('2026-05-01T09:00:00Z') });
    await kokyaku.privacy.recordConsent(ctx(), taro, { channel: 'SMS', granted: true, source: 'checkout' });
    expect((await kokyaku.customers.findByExternalId(ctx(), 'taro'))!.emailConsent).toBe(true);
    expect(await kokyaku.privacy.mayMarket(ctx(), taro, 'EMAIL')).toBe(true);
    expect(await kokyaku.privacy.mayMarket(ctx(), taro, 'SMS')).toBe(true);
    expect(await kokyaku.segments.count(ctx(), 'email_subscription_status = SUBSCRIBED')).toBe(2);

    await kokyaku.privacy.objectToMarketing(ctx(), taro, 'phone call to support');
    for (const channel of ['EMAIL', 'SMS', 'LINE', 'PHONE', 'POST'] as const) expect(await kokyaku.privacy.mayMarket(ctx(), taro, channel), channel).toBe(false);
    const after = (await kokyaku.customers.findByExternalId(ctx(), 'taro'))!;
    expect(after.emailConsent).toBe(false);
    expect(after.marketingObjectionAt).toBeInstanceOf(Date);
    expect(await kokyaku.segments.count(ctx(), 'email_subscription_status = SUBSCRIBED')).toBe(1);
    const history = await kokyaku.privacy.consents(ctx(), taro);
    expect(history.filter((c) => c.source === 'phone call to support')).toHaveLength(5);
    expect(history.find((c) => c.source === 'newsletter form')).toMatchObject({
      channel: 'EMAIL',
      granted: true,
      recordedAt: new Date('2026-05-01T09:00:00Z'),
      actorId: 'staff-7',
    });

    // A new grant is the customer's new word: marketing on that channel may resume.
    await kokyaku.privacy.recordConsent(ctx(), taro, { channel: 'EMAIL', granted: true, source: 'opted in again' });
    expect(await kokyaku.privacy.mayMarket(ctx(), taro, 'EMAIL')).toBe(true);
    expect(await kokyaku.privacy.mayMarket(ctx(), taro, 'SMS')).toBe(false);
  });

  it('refuses a bad consent with a coded error naming the field, and records nothing', async () => {
    const before = (await kokyaku.privacy.consents(ctx(), { externalId: 'taro' })).length;
    await expect(kokyaku.privacy.recordConsent(ctx(), { externalId: 'taro' }, { channel: 'FAX' as never, granted: true, source: 'x' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'channel' },
    });
    await expect(kokyaku.privacy.recordConsent(ctx(), { externalId: 'taro' }, { channel: 'EMAIL', granted: true, source: '  ' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'source' },
    });
    await expect(kokyaku.privacy.recordConsent(ctx(), { externalId: 'nobody' }, { channel: 'EMAIL', granted: true, source: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await kokyaku.privacy.consents(ctx(), { externalId: 'taro' })).length).toBe(before);
  });
});

describe('erasure', () => {
  it("leaves no trace of the customer in any table, and the shop's figures unchanged", async () => {
    const revenue = async () => (await kokyaku.analytics.rfmReport(ctx())).revenue;
    const revenueBefore = await revenue();
    const hanako = (await kokyaku.customers.findByExternalId(ctx(), 'hanako'))!;
    expect(await traces(TRACES)).not.toEqual([]);

    const erased = await kokyaku.privacy.eraseCustomer(ctx(), { externalId: 'hanako' }, { reason: 'customer request #12' });
    expect(erased.customerId).toBe(hanako.id);

    // Her data is gone from this tenant; the other shop's Hanako is untouched.
    const left = await traces(TRACES);
    expect(left.length).toBeGreaterThan(0);
    expect(
      left.every((row) => row.includes('other-shop')),
      left.join('\n'),
    ).toBe(true);

    // Orders stay, as anonymous figures: revenue and her metrics add up as before.
    expect(await revenue()).toBe(revenueBefore);
    const row = (await kokyaku.customers.findById(ctx(), hanako.id))!;
    expect(row).toMatchObject({ email: null, phone: null, firstName: null, lastName: null, birthday: null, city: null, tags: [], customFields: {}, emailConsent: false });
    expect(row.externalId).toMatch(/^erased:/);
    expect(row.erasedAt).toBeInstanceOf(Date);
    expect(row.metrics).toMatchObject({ ordersCount: 2, totalSpent: 6600 });
    expect(await kokyaku.privacy.mayMarket(ctx(), { id: hanako.id }, 'LINE')).toBe(false);
    // Segments follow: she no longer has the tag.
    expect(await kokyaku.segments.count(ctx(), `customer_tags CONTAINS 'vip'`)).toBe(1);
    expect(await kokyaku.customers.findByExternalId(ctx(), 'hanako')).toBeNull();
    // Erasing again changes nothing more; consent cannot be recorded for her.
    await kokyaku.privacy.eraseCustomer(ctx(), { id: hanako.id });
    await expect(kokyaku.privacy.recordConsent(ctx(), { id: hanako.id }, { channel: 'EMAIL', granted: true, source: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const audit = await kokyaku.audit.list(ctx(), { customerId: hanako.id, action: 'ERASE' });
    expect(audit.nodes.at(-1)).toMatchObject({ actorId: 'staff-7', detail: { reason: 'customer request #12' } });

    // The shop sends her id again later: that is a new customer, not the erased row.
    await kokyaku.orders.record(ctx(), [
      { externalId: 'o-9', customerExternalId: 'hanako', placedAt: new Date('2026-06-01T00:00:00Z'), lines: [{ productExternalId: 'tea', quantity: 1, unitPrice: 1200 }] },
    ]);
    const again = (await kokyaku.customers.findByExternalId(ctx(), 'hanako'))!;
    expect(again.id).not.toBe(hanako.id);
    expect((await kokyaku.customers.findById(ctx(), hanako.id))!.metrics.ordersCount).toBe(2);
  });
});

describe('shop erasure', () => {
  it('deletes every row of one tenant and nothing of another; every tenant table is on its list', async () => {
    const em = system();
    const tenantTables = await sql<{ name: string }>(
      em,
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'kokyaku' and c.relkind = 'r' and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)`,
    );
    expect(tenantTables.map((t) => t.name).sort()).toEqual([...TENANT_TABLES].sort());
    const count = async (tenant: string) => {
      let n = 0;
      for (const table of TENANT_TABLES) n += (await sql<{ n: number }>(em, `select count(*)::int as n from kokyaku.${table} where tenant_id = $1`, [tenant]))[0]!.n;
      return n;
    };
    const defaultRows = await count('default');
    expect(await count('other-shop')).toBeGreaterThan(0);
    const { rows } = await kokyaku.privacy.eraseShop(ctx('other-shop'));
    expect(rows).toBeGreaterThan(0);
    expect(await count('other-shop')).toBe(0);
    expect(await count('default')).toBe(defaultRows);
  });
});
