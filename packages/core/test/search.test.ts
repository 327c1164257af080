import type { CustomerInput, Kokyaku } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { normalizeSearchText } from '../src/customers/normalize.js';
import { sql } from '../src/shared/sql.js';

let kokyaku: Kokyaku;
const ctx = (tenantId?: string) => kokyaku.context({ tenantId });

const customers: CustomerInput[] = [
  { externalId: 'C-1', lastName: '田中', firstName: '花子', lastNameKana: 'タナカ', firstNameKana: 'ハナコ', email: 'hanako.tanaka@example.jp', phone: '090-1234-5678' },
  { externalId: 'C-2', lastName: 'Tanaka', firstName: 'Taro', lastNameKana: 'たなか', firstNameKana: 'たろう', email: 'taro@example.com', phone: '+81 80 2222 5678' },
  { externalId: 'C-3', lastName: '佐藤', firstName: '由布子', lastNameKana: 'サトウ', firstNameKana: 'ユウコ', email: 'yuko.sato@example.net', phone: '03-5555-0000' },
  { externalId: 'C-4', lastName: 'Ｓｍｉｔｈ', firstName: 'John', email: 'JOHN.SMITH@Example.COM', phone: '+1 415 555 0123' },
  { externalId: 'C-5', lastName: '鈴木', firstName: '一郎', lastNameKana: 'スズキ', firstNameKana: 'イチロー', email: 'ichiro@example.jp' },
  { externalId: 'SHOP-00042', lastName: 'Yamada', firstName: 'Ken', email: 'ken@example.org' },
  { externalId: 'C-7', lastName: '服部', firstName: '半蔵', lastNameKana: 'ハットリ', firstNameKana: 'ハンゾウ', email: 'tanaka@example.jp' },
];

const search = async (query: string, options: Parameters<Kokyaku['customers']['search']>[2] = {}) => (await kokyaku.customers.search(ctx(), query, options)).nodes;
const ids = async (query: string, options?: Parameters<Kokyaku['customers']['search']>[2]) => (await search(query, options)).map((h) => h.customer.externalId);

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP', timeZone: 'Asia/Tokyo' } });
  const result = await kokyaku.customers.upsert(ctx(), customers);
  expect(result.failed).toBe(0);
  // Another shop with the same phone and name: never found from this one.
  await kokyaku.customers.upsert(ctx('other-shop'), [{ externalId: 'X-1', lastName: '田中', firstName: '花子', phone: '090-1234-5678', email: 'hanako.tanaka@example.jp' }]);
});
afterAll(() => kokyaku?.close());

describe('phone numbers', () => {
  it.each(['090-1234-5678', '09012345678', '+81 90 1234 5678', '+819012345678', '０９０－１２３４－５６７８', '(090) 1234 5678'])(
    '%s finds the same E.164 number first',
    async (query) => {
      const [hit] = await search(query);
      expect(hit).toMatchObject({ field: 'PHONE', value: '+819012345678', customer: { externalId: 'C-1' } });
      expect(hit!.rank).toBeGreaterThanOrEqual(100);
    },
  );

  it('a trailing fragment finds the candidates, and highlights the digits', async () => {
    expect((await ids('5678')).sort()).toEqual(['C-1', 'C-2']);
    const [hit] = await search('1234-5678');
    expect(hit).toMatchObject({ customer: { externalId: 'C-1' }, highlight: { start: 5, end: 13 } });
    expect(await ids('555-0000')).toEqual(['C-3']);
  });
});

describe('names', () => {
  it.each(['田中花子', '田中 花子', '田中　花子', '花子田中', '花子 田中'])('%s: family and given name in either order, with or without a space', async (query) => {
    const [hit] = await search(query);
    expect(hit).toMatchObject({ field: 'NAME', customer: { externalId: 'C-1' }, value: '田中 花子' });
  });

  it.each(['tanaka taro', 'taro tanaka', 'TanakaTaro', 'ＴＡＮＡＫＡ ＴＡＲＯ', 'tanaka'])('%s: Latin, any case, full or half width', async (query) => {
    expect((await search(query)).find((h) => h.field === 'NAME')?.customer.externalId).toBe('C-2');
  });

  it('full-width stored names match half-width queries', async () => {
    expect(await ids('smith john')).toEqual(['C-4']);
  });

  it('a two-character family name finds by prefix', async () => {
    expect(await ids('田中')).toEqual(['C-1']);
    expect((await search('佐藤'))[0]).toMatchObject({ customer: { externalId: 'C-3' }, highlight: { start: 0, end: 2 } });
  });
});

describe('kana readings', () => {
  it.each(['たなかはなこ', 'タナカハナコ', 'ﾀﾅｶﾊﾅｺ', 'はなこ たなか', 'タナカ　ハナコ'])('%s: hiragana, katakana and half-width kana are equal', async (query) => {
    expect((await search(query))[0]).toMatchObject({ field: 'KANA', customer: { externalId: 'C-1' }, value: 'タナカ ハナコ' });
  });

  it('long vowel marks and small kana are folded', async () => {
    expect(await ids('すずきいちろ')).toEqual(['C-5']);
    expect(await ids('イチロー')).toEqual(['C-5']);
    // ッ is read like ツ: はつとり finds ハットリ.
    expect(await ids('はつとり')).toEqual(['C-7']);
    expect(await ids('ハットリ')).toEqual(['C-7']);
  });
});

describe('emails and ids', () => {
  it('whole, any case: first and exact', async () => {
    const [exact] = await search('JOHN.SMITH@EXAMPLE.COM');
    expect(exact).toMatchObject({ field: 'EMAIL', value: 'john.smith@example.com', customer: { externalId: 'C-4' } });
    expect(exact!.rank).toBeGreaterThanOrEqual(100);
    expect((await search(' hanako.tanaka@example.jp '))[0]).toMatchObject({ field: 'EMAIL', customer: { externalId: 'C-1' }, highlight: { start: 0, end: 24 } });
  });

  it('a prefix or a part', async () => {
    expect(await ids('hanako.t')).toEqual(['C-1']);
    expect(await ids('example.net')).toEqual(['C-3']);
  });

  it("the shop's customer id", async () => {
    expect((await search('SHOP-00042'))[0]).toMatchObject({ field: 'EXTERNAL_ID', customer: { externalId: 'SHOP-00042' } });
  });
});

describe('ranking', () => {
  it('an exact email ranks above everything; other emails that merely contain it are not mixed in', async () => {
    const hits = await search('tanaka@example.jp');
    expect(hits.map((h) => h.customer.externalId)).toEqual(['C-7']);
    expect(hits[0]!.rank).toBeGreaterThanOrEqual(100);
    const fragment = await search('anaka@example.jp');
    expect(fragment.map((h) => h.customer.externalId).sort()).toEqual(['C-1', 'C-7']);
    expect(fragment.every((h) => h.rank < 60)).toBe(true);
  });

  it('an email prefix before a name prefix; fragments inside values only when nothing starts so', async () => {
    const hits = await search('tanaka');
    expect(hits.map((h) => [h.customer.externalId, h.field])).toEqual([
      ['C-7', 'EMAIL'],
      ['C-2', 'NAME'],
    ]);
    expect((await search('anaka')).map((h) => [h.customer.externalId, h.field])).toEqual([
      ['C-2', 'NAME'],
      ['C-1', 'EMAIL'],
      ['C-7', 'EMAIL'],
    ]);
  });

  it('an exact phone number comes before phones that merely end alike', async () => {
    expect(await ids('+81 80 2222 5678')).toEqual(['C-2']);
    const hits = await search('5678');
    expect(hits.every((h) => h.rank < 100)).toBe(true);
  });

  it('pages through the results, prefixes and fragments alike', async () => {
    for (const [query, all] of [
      ['example', ['C-1', 'C-2', 'C-3', 'C-4', 'C-5', 'SHOP-00042', 'C-7']],
      ['anaka', ['C-2', 'C-1', 'C-7']],
    ] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: Awaited<ReturnType<Kokyaku['customers']['search']>> = await kokyaku.customers.search(ctx(), query, { first: 2, after });
        seen.push(...page.nodes.map((h) => h.customer.externalId));
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      expect(seen.sort(), query).toEqual([...all].sort());
    }
  });
});

describe('callers without access to contact data', () => {
  it('neither match on email or phone nor see them', async () => {
    const hidden = { personalData: false };
    expect(await ids('5678', hidden)).toEqual([]);
    expect(await ids('hanako.tanaka@example.jp', hidden)).toEqual([]);
    const [hit] = await search('tanaka taro', hidden);
    expect(hit).toMatchObject({ field: 'NAME', customer: { externalId: 'C-2', email: null, phone: null } });
  });
});

describe('normalisation', () => {
  it('is the same in TypeScript (highlights) and in PostgreSQL (stored columns and queries)', async () => {
    const samples = [
      '田中　花子',
      'ﾀﾅｶ ﾊﾅｺ',
      'タナカ・ハナコ',
      'イチロー',
      'ハットリ',
      'ＪＯＨＮ．Smith',
      'Jean-Luc O’Neil',
      'ヴァイオリン',
      'きょうこ',
      '０９０－１２３４',
      'Ｓｍｉｔｈ',
    ];
    for (const s of samples) {
      const [row] = await sql<{ t: string }>(ctx().em, `select kokyaku.search_text($1) as t`, [s]);
      expect(row!.t, s).toBe(normalizeSearchText(s));
    }
  });

  it('rejects queries that are too long, and returns nothing for one character', async () => {
    await expect(search('x'.repeat(201))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await search('田')).toEqual([]);
    expect(await search('   ')).toEqual([]);
  });
});

describe('indexes', () => {
  it('serve every kind of query: no sequential scan of the customers table', async () => {
    const t = 'search-scale';
    await sql(
      ctx(t).em,
      `insert into kokyaku.customers (tenant_id, external_id, email, phone, first_name, last_name, first_name_kana, last_name_kana)
       select $1, 'S' || g, 'user' || g || '@example.com', '+8190' || lpad(g::text, 8, '0'), 'Given' || g,
              initcap(translate(substr(md5(g::text), 1, 8), '0123456789', 'ghijklmnop')),
              'はな' || (g % 13), 'たなか' || (g % 101)
       from generate_series(1, 30000) g`,
      [t],
    );
    await kokyaku.metrics.refresh(ctx(t));
    await sql(ctx().em, `analyze kokyaku.customers`);
    const captured: { sql: string; bindings: unknown[] }[] = [];
    const knex = kokyaku.orm.em.getKnex();
    const listener = (q: { sql: string; bindings: unknown[] }) => captured.push(q);
    knex.on('query', listener);
    const explain = new pg.Client({ connectionString: kokyaku.databaseUrl });
    await explain.connect();
    // Planned as the application runs it: as kokyaku_tenant, under row-level security.
    await explain.query(`select set_config('role', 'kokyaku_tenant', false), set_config('kokyaku.tenant_id', $1, false)`, [t]);
    try {
      const [sample] = await sql<{ name: string }>(ctx(t).em, `select last_name as name from kokyaku.customers where tenant_id = $1 and external_id = 'S777'`, [t]);
      const name = sample!.name;
      for (const query of ['5678', '090-0000-1234', 'user123@', 'user1234@example.com', 'たなか12', name.slice(0, 5), name.slice(2, 7), name.slice(0, 2), 'S777']) {
        captured.length = 0;
        const page = await kokyaku.customers.search(ctx(t), query);
        expect(page.nodes.length, query).toBeGreaterThan(0);
        const main = captured.find((q) => q.sql.includes('union select'))!;
        const plan = await explain.query(`explain ${main.sql}`, main.bindings);
        const text = (plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
        expect(text, `${query}\n${text}`).not.toMatch(/Seq Scan on customers/);
        // Nor every row of the tenant through its index: each condition must reach an index
        // although row-level security runs first (LEAKPROOF operators, see tenant_isolation).
        const lines = text.split('\n');
        const tenantOnly = lines.filter((line, i) => /Index Cond: \(tenant_id = '[^']+'::text\)$/.test(line) && !/BitmapAnd/.test(lines[i - 2] ?? ''));
        expect(tenantOnly, `${query}\n${text}`).toEqual([]);
        if (process.env.SHOW_PLAN) console.log(query, text);
      }
    } finally {
      knex.off('query', listener);
      await explain.end();
    }
  });
});
