import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { type Kokyaku, type KokyakuContext, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

let kokyaku: Kokyaku;
let dir: string;
const ctx = (tenantId = 'default'): KokyakuContext => kokyaku.context({ tenantId, actor: { id: 'importer', roles: ['ADMIN'] } });

async function count(table: string, tenantId = 'default'): Promise<number> {
  return (await sql<{ n: number }>(ctx(tenantId).em, `select count(*)::int as n from kokyaku.${table} where tenant_id = $1`, [tenantId]))[0]!.n;
}

/** A CSV file: rows joined with CRLF, in UTF-8 (optionally with a BOM) or Shift_JIS. */
async function file(name: string, lines: string[], encoding: 'utf-8' | 'utf-8-bom' | 'shift_jis' = 'utf-8'): Promise<string> {
  const text = `${lines.join('\r\n')}\r\n`;
  const bytes = encoding === 'shift_jis' ? iconv.encode(text, 'cp932') : Buffer.from(encoding === 'utf-8-bom' ? `\uFEFF${text}` : text, 'utf8');
  const target = path.join(dir, name);
  await fs.writeFile(target, bytes);
  return target;
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-import-'));
});
afterAll(async () => {
  await kokyaku?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('customers in Shift_JIS with Japanese headers', () => {
  const rows = [
    '会員番号,氏名,フリガナ,メールアドレス,電話番号,郵便番号,都道府県,住所,生年月日,メルマガ',
    'C-1,山田　花子,ヤマダ ハナコ, Hanako@Example.JP ,090-1234-5678,〒060-0001,北海道,札幌市中央区北1条西2丁目,1990/4/1,はい', // line 2
    'C-2,佐藤 太郎,サトウ タロウ,taro@example.jp,03-1234-5678,100-0001,東京都,"千代田区千代田1-1\r\n皇居前",1985年12月24日,いいえ', // lines 3-4
    'C-3,鈴木 一郎,スズキ イチロウ,not-an-email,090-0000-0000,,,,,', // line 5: bad email (stored without it)
    'C-4,高橋 次郎,タカハシ ジロウ,jiro@example.jp,12,,,,,', // line 6: bad phone (stored without it)
    'C-5,田中 三郎,タナカ サブロウ,saburo@example.jp', // line 7: wrong column count (refused)
    'C-6,伊藤 四郎,イトウ シロウ,shiro@example.jp,,,,,=1+1,', // line 8: formula-looking birthday (stored without it)
    'C-7,"=HYPERLINK(""http://evil.example"")",ﾅﾅ ﾐ,nana@example.jp,,,,,,', // line 9: formula-looking name, stored as text; half-width kana
  ];

  it('stores the good rows, normalised, stores rows with a bad optional value without it, and reports each problem with its line, column and reason', async () => {
    const csv = await file('customers-sjis.csv', rows, 'shift_jis');
    const report = path.join(dir, 'customers-errors.csv');
    const result = await kokyaku.imports.run(ctx(), { kind: 'customers', file: csv, errorReport: report });
    expect(result.encoding).toBe('shift_jis');
    expect(result.mapping.headers).toMatchObject({
      externalId: '会員番号',
      fullName: '氏名',
      fullNameKana: 'フリガナ',
      email: 'メールアドレス',
      phone: '電話番号',
      postalCode: '郵便番号',
      region: '都道府県',
      address: '住所',
      birthday: '生年月日',
      emailConsent: 'メルマガ',
    });
    expect(result.rowsRead).toBe(7);
    // A bad email, phone or birthday costs that value, not the customer; a row that cannot be read is refused.
    expect(result.rowsValid).toBe(6);
    expect(result.rowsWarned).toBe(3);
    expect(result.rowsFailed).toBe(1);
    expect(result.problems.map((p) => [p.line, p.column, p.stored ?? false])).toEqual([
      [5, 'メールアドレス', true],
      [6, '電話番号', true],
      [7, null, false],
      [8, '生年月日', true],
    ]);
    expect(result.problems[0]!).toMatchObject({ value: 'not-an-email', reason: expect.stringMatching(/email address.*\(stored without it\)$/) });
    expect(result.problems[1]!).toMatchObject({ value: '12', reason: expect.stringMatching(/phone number.*\(stored without it\)$/) });
    expect(result.problems[2]!.reason).toMatch(/4 columns; the header has 10/);

    const hanako = (await kokyaku.customers.findByExternalId(ctx(), 'C-1'))!;
    expect(hanako).toMatchObject({
      lastName: '山田',
      firstName: '花子',
      lastNameKana: 'ヤマダ',
      firstNameKana: 'ハナコ',
      email: 'hanako@example.jp',
      phone: '+819012345678',
      birthday: '1990-04-01',
      region: '北海道',
      emailConsent: true,
      customFields: { postal_code: '060-0001', address: '札幌市中央区北1条西2丁目' },
    });
    const taro = (await kokyaku.customers.findByExternalId(ctx(), 'C-2'))!;
    expect(taro).toMatchObject({ birthday: '1985-12-24', emailConsent: false, customFields: { postal_code: '100-0001', address: '千代田区千代田1-1\n皇居前' } });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'C-7')).toMatchObject({ lastName: '=HYPERLINK("http://evil.example")', lastNameKana: 'ナナ', firstNameKana: 'ミ' });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'C-3')).toMatchObject({ lastName: '鈴木', email: null, phone: '+819000000000' });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'C-4')).toMatchObject({ lastName: '高橋', email: 'jiro@example.jp', phone: null });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'C-6')).toMatchObject({ lastName: '伊藤', birthday: null });
    expect(await kokyaku.customers.findByExternalId(ctx(), 'C-5')).toBeNull();

    // The report names every problem and what became of its row; a formula-looking value cannot become a formula.
    const text = await fs.readFile(report, 'utf8');
    const lines = text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('line,column,reason,value,outcome');
    expect(lines.slice(1).map((l) => [l.split(',')[0], l.split(',').at(-1)])).toEqual([
      ['5', 'stored without this value'],
      ['6', 'stored without this value'],
      ['7', 'row refused'],
      ['8', 'stored without this value'],
    ]);
    expect(text).toContain("'=1+1");
    expect(text).not.toMatch(/,=1\+1/);
  });

  it('changes nothing when the same file is imported again', async () => {
    const csv = path.join(dir, 'customers-sjis.csv');
    const before = await sql<{ id: string; updated_at: string }>(
      ctx().em,
      `select id::text as id, updated_at::text from kokyaku.customers where tenant_id = 'default' order by id`,
    );
    const again = await kokyaku.imports.run(ctx(), { kind: 'customers', file: csv });
    expect(again.rowsValid).toBe(6);
    const after = await sql<{ id: string; updated_at: string }>(ctx().em, `select id::text as id, updated_at::text from kokyaku.customers where tenant_id = 'default' order by id`);
    expect(after).toEqual(before);
    // The staged rows (personal data) are gone once a run is done; the run keeps its counts.
    expect(await count('import_rows')).toBe(0);
    const runs = await kokyaku.imports.runs(ctx());
    expect(runs[0]).toMatchObject({ kind: 'customers', status: 'DONE', rowsRead: 7, rowsFailed: 1, rowsApplied: 6 });
  });
});

describe('products with a BOM, and a dry run', () => {
  it('shows the mapping and the first problems in a dry run and writes nothing', async () => {
    const csv = await file(
      'products-bom.csv',
      ['商品コード,商品名,価格,カテゴリ', 'P-1,コーヒー豆,"1,280",coffee;beans', 'P-2,マグカップ,¥2000,kitchen', 'P-3,ティーポット,abc,kitchen'],
      'utf-8-bom',
    );
    const dry = await kokyaku.imports.run(ctx(), { kind: 'products', file: csv, dryRun: true });
    expect(dry.encoding).toBe('utf-8');
    expect(dry.mapping.headers).toEqual({ externalId: '商品コード', name: '商品名', price: '価格', categories: 'カテゴリ' });
    expect(dry.rowsValid).toBe(2);
    expect(dry.problems).toEqual([{ line: 4, column: '価格', reason: 'is not an amount', value: 'abc' }]);
    expect(await count('products')).toBe(0);
    expect(await count('import_runs')).toBe(1);

    const done = await kokyaku.imports.run(ctx(), { kind: 'products', file: csv });
    expect(done.rowsValid).toBe(2);
    const coffee = await kokyaku.products.findByExternalId(ctx(), 'P-1');
    expect(coffee).toMatchObject({ name: 'コーヒー豆', price: 1280, categories: ['coffee', 'beans'] });
  });
});

describe('orders, one row per line', () => {
  it('groups lines by order id wherever they are in the file, and refuses a line that contradicts its order', async () => {
    const csv = await file('orders.csv', [
      '注文番号,会員番号,注文日,商品コード,数量,単価,ステータス',
      'O-1,C-1,2026-05-01 10:30,P-1,2,1280,', // line 2
      'O-2,C-2,2026/5/2,P-2,1,2000,完了', // line 3
      'O-1,C-1,2026-05-01 10:30,P-2,1,2000,', // line 4: second line of O-1
      'O-1,C-9,2026-05-01 10:30,P-3,1,500,', // line 5: same order id, another customer
      'O-3,C-1,2026-05-03,P-1,0,1280,', // line 6: quantity 0
      'O-4,C-2,2026-05-04,P-1,1,1280,キャンセル', // line 7
      'O-5,C-1,2026-05-05,P-1,1,1280.5,', // line 8: half a yen, refused by ingestion...
      'O-5,C-1,2026-05-05,P-2,1,100,', // line 9: ...so its order's other line is not stored either
    ]);
    const result = await kokyaku.imports.run(ctx(), { kind: 'orders', file: csv });
    expect(result.problems.map((p) => [p.line, p.column])).toEqual([
      [5, '会員番号'],
      [6, '数量'],
      [8, '単価'],
      [9, null],
    ]);
    expect(result.problems[3]!.reason).toBe('not stored: line 8 of the same order was refused');
    expect(result).toMatchObject({ rowsRead: 8, rowsValid: 4, rowsFailed: 4, rowsApplied: 4 });
    expect(result.problems[0]!.reason).toMatch(/order O-1 already appeared on line 2 with another customer/);
    const hanako = (await kokyaku.customers.findByExternalId(ctx(), 'C-1'))!;
    expect(hanako.metrics).toMatchObject({ ordersCount: 1, totalSpent: 2 * 1280 + 2000 });
    const page = await kokyaku.orders.listForCustomers(ctx(), [hanako.id], { first: 10 });
    const o1 = page.get(hanako.id)!.nodes[0]!;
    expect(o1).toMatchObject({ externalId: 'O-1', placedAt: new Date('2026-05-01T01:30:00Z') });
    const taro = (await kokyaku.customers.findByExternalId(ctx(), 'C-2'))!;
    expect(taro.metrics.ordersCount).toBe(1);
    expect(await count('orders')).toBe(3);
  });

  it('names an order from several columns with orderKey, as for the groceries data', async () => {
    const csv = await file('baskets.csv', [
      'Member_number,Date,itemDescription,Cost',
      '1000,1-Jan-14,milk,150',
      '1001,1-Jan-14,bread,200',
      '1000,1-Jan-14,eggs,300',
      '1000,2-Jan-14,milk,150',
    ]);
    const result = await kokyaku.imports.run(ctx('grocer'), { kind: 'orders', file: csv, orderKey: ['Member_number', 'Date'] });
    expect(result.rowsValid).toBe(4);
    expect(await count('orders', 'grocer')).toBe(3);
    expect(await count('order_lines', 'grocer')).toBe(4);
    const member = (await kokyaku.customers.findByExternalId(ctx('grocer'), '1000'))!;
    expect(member.metrics).toMatchObject({ ordersCount: 2, totalSpent: 600 });
  });

  it('says which required column is missing, naming the headers there are', async () => {
    const csv = await file('no-price.csv', ['order,customer,date,sku', 'O-1,C-1,2026-01-01,P-1']);
    await expect(kokyaku.imports.run(ctx(), { kind: 'orders', file: csv })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/No column for unitPrice among the headers "order", "customer", "date", "sku"/),
    });
    const mapped = await kokyaku.imports.run(ctx('mapped'), {
      kind: 'orders',
      file: await file('price-col.csv', ['order,customer,date,sku,amount', 'O-1,C-1,2026-01-01,P-1,300']),
      mapping: { unitPrice: 'amount' },
    });
    expect(mapped.rowsValid).toBe(1);
  });
});

describe('events', () => {
  it('imports events idempotently on their ids', async () => {
    const csv = await file('events.csv', [
      'event_id,type,customer_id,sku,timestamp',
      'e-1,product_viewed,C-1,P-1,2026-05-01T00:00:00Z',
      'e-2,added_to_cart,C-1,P-1,2026-05-01 09:00',
      'e-1,product_viewed,C-1,P-1,2026-05-01T00:00:00Z',
    ]);
    const result = await kokyaku.imports.run(ctx(), { kind: 'events', file: csv });
    expect(result.rowsValid).toBe(3);
    expect(await count('events')).toBe(2);
    await kokyaku.imports.run(ctx(), { kind: 'events', file: csv });
    expect(await count('events')).toBe(2);
  });
});

describe('export', () => {
  /** Collects what an export writes. */
  function sink() {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { out, text: () => chunks.join('') };
  }

  it('streams customers with metrics and segments to CSV, formula-safe, and audits it', async () => {
    await kokyaku.segments.create(ctx(), { name: 'buyers', query: 'number_of_orders >= 1' });
    const { out, text } = sink();
    const { rows } = await kokyaku.exports.export(ctx(), out, { kind: 'customers', format: 'csv' });
    const lines = text()
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(rows).toBe(lines.length - 1);
    expect(lines[0]).toMatch(/^externalId,email,phone,lastName,firstName,.*ordersCount,totalSpent,.*segments$/);
    const hanako = lines.find((l) => l.startsWith('C-1,'))!;
    expect(hanako).toContain('hanako@example.jp');
    expect(hanako).toContain('"{""address"":""札幌市中央区北1条西2丁目"",""postal_code"":""060-0001""}"');
    // A phone number starts with "+": a spreadsheet would take it for a formula, so it is written as text.
    expect(hanako).toContain(",'+819012345678,");
    expect(hanako.endsWith(',buyers')).toBe(true);
    // The customer named =HYPERLINK(...) is written as text, not as a formula.
    const c7 = lines.find((l) => l.startsWith('C-7,'))!;
    expect(c7).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    const audit = await kokyaku.audit.list(ctx(), { action: 'EXPORT' });
    expect(audit.nodes[0]).toMatchObject({ actorId: 'importer', customerId: null, detail: { kind: 'customers', rows } });
  });

  it("streams only a segment's customers, and orders a row per line as JSON", async () => {
    const buyers = sink();
    const { rows } = await kokyaku.exports.export(ctx(), buyers.out, { kind: 'customers', format: 'json', segment: 'number_of_orders >= 1' });
    const parsed = JSON.parse(buyers.text()) as { externalId: string; ordersCount: number }[];
    expect(parsed).toHaveLength(rows);
    expect(parsed.every((c) => c.ordersCount >= 1)).toBe(true);
    const orders = sink();
    await kokyaku.exports.export(ctx(), orders.out, { kind: 'orders', format: 'json' });
    const lines = JSON.parse(orders.text()) as { orderId: string; sku: string; quantity: number; unitPrice: number; lineTotal: number }[];
    expect(lines.filter((l) => l.orderId === 'O-1').map((l) => [l.sku, l.quantity, l.lineTotal])).toEqual([
      ['P-1', 2, 2560],
      ['P-2', 1, 2000],
    ]);
    const segments = sink();
    await kokyaku.exports.export(ctx(), segments.out, { kind: 'segments', format: 'csv', bom: false });
    expect(segments.text().split('\r\n')[0]).toBe('id,name,query,customers,createdAt');
  });
});

describe('hostile cells', () => {
  it('a NUL byte, a year 0000 date or a price past 2^53 refuses its row (by line and the right column), never the file', async () => {
    const rows = ['customer_id,name,email'];
    for (let i = 0; i < 1000; i++) rows.push(`N-${i},Name ${i},n${i}@example.jp`);
    rows[101] = 'N-100,Na\u0000me,n100@example.jp'; // line 102: an optional cell: stored without it
    rows[501] = 'N-5\u000000,Name 500,n500@example.jp'; // line 502: the id: refused
    const customers = await kokyaku.imports.run(ctx('hostile'), { kind: 'customers', file: await file('nul.csv', rows) });
    expect(customers).toMatchObject({ phase: 'DONE', rowsRead: 1000, rowsValid: 999, rowsFailed: 1, rowsWarned: 1 });
    expect(customers.problems.map((p) => [p.line, p.column, p.stored ?? false])).toEqual([
      [102, 'name', true],
      [502, 'customer_id', false],
    ]);
    expect(customers.problems[1]!.reason).toMatch(/NUL/);
    expect(await count('customers', 'hostile')).toBe(999);

    const orders = await kokyaku.imports.run(ctx('hostile'), {
      kind: 'orders',
      file: await file('orders-hostile.csv', [
        'order_id,customer_id,order_date,sku,quantity,unit_price',
        'H-1,N-1,2026-01-05,P-1,1,1200', // line 2
        'H-2,N-2,0000-01-01,P-1,1,1200', // line 3: a date before 1900
        'H-3,N-3,2026-01-05,P-1,1,99999999999999999999', // line 4: past 2^53 yen
        'H-4,N-4,2026-01-06,P-2,2,800', // line 5
      ]),
    });
    expect(orders).toMatchObject({ phase: 'DONE', rowsRead: 4, rowsValid: 2, rowsFailed: 2 });
    expect(orders.problems.map((p) => [p.line, p.column])).toEqual([
      [3, 'order_date'],
      [4, 'unit_price'],
    ]);
    // A rerun of the same file finds nothing left to do and fails on nothing.
    const again = await kokyaku.imports.run(ctx('hostile'), { kind: 'orders', file: path.join(dir, 'orders-hostile.csv') });
    expect(again).toMatchObject({ phase: 'DONE', rowsValid: 2, rowsFailed: 2 });
  });
});

describe('bytes that are not UTF-8', () => {
  it('refuses the cell (a required one refuses its row) instead of storing U+FFFD without a word', async () => {
    const header = Buffer.from('customer_id,name,email\n');
    const good = Buffer.from('U-1,Good,u1@example.jp\n');
    // Past the 64 KB the encoding is detected from, a name saved as Latin-1 ("Mu\xF1oz").
    const filler = Buffer.from(Array.from({ length: 2000 }, (_, i) => `F-${i},Filler ${i},f${i}@example.jp\n`).join(''));
    const latin1 = Buffer.concat([Buffer.from('U-2,Mu'), Buffer.from([0xf1]), Buffer.from('oz,u2@example.jp\n')]);
    const target = path.join(dir, 'mixed-encoding.csv');
    await fs.writeFile(target, Buffer.concat([header, good, filler, latin1]));
    const result = await kokyaku.imports.run(ctx('bytes'), { kind: 'customers', file: target });
    expect(result.encoding).toBe('utf-8');
    expect(result.problems).toEqual([expect.objectContaining({ line: 2003, column: 'name', stored: true, reason: expect.stringMatching(/not UTF-8/) })]);
    expect(await kokyaku.customers.findByExternalId(ctx('bytes'), 'U-2')).toMatchObject({ lastName: null, email: 'u2@example.jp' });
  });
});
