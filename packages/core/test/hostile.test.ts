import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

/**
 * Hostile values of every kind thrown at every batch input: each batch mixes good items with
 * items that carry one hostile value. Not one internal error, every hostile item reported by
 * index (and field), not one of them stored, every good item stored.
 */
let kokyaku: Kokyaku;
let run = 0;

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
});
afterAll(() => kokyaku?.close());

const deep = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) value = { nested: value };
  return value;
};

/** Text PostgreSQL cannot store, or a field cannot hold. */
const hostileText = fc.oneof(
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.constantFrom('\uD800', 'a\uDFFFb', '\uDBFF\uDBFF', 'x\uD83D'),
  fc.constant('x'.repeat(10_012)),
);
const hostileInstant = fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T00:00:00Z', '1899-12-31T23:59:59Z', 'not a date', '2026-02-30T00:00:00Z');
const hostileAmount = fc.constantFrom(1e308, 9007199254740993, 2 ** 63, -1, Number.NaN, Number.POSITIVE_INFINITY);
const hostileJson = fc.oneof(fc.constant(deep(5_000)), fc.constant({ big: 'x'.repeat(70 * 1024) }), fc.constant({ 'key\u0000': 1 }), fc.constant({ text: 'a\uD800' }));

const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + (n % 300))).toISOString();

async function stored(table: 'orders' | 'customers' | 'events' | 'products', column: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await sql<{ n: number }>(
    kokyaku.context().em,
    `select count(*)::int as n from kokyaku.${table} where tenant_id = 'default' and ${column} = any(kokyaku.json_texts($1::jsonb))`,
    [JSON.stringify(ids)],
  );
  return rows[0]!.n;
}

/** Runs one batch of `good` items with hostile ones placed among them; checks the outcome. */
async function check<T extends Record<string, unknown>>(
  send: (items: unknown[]) => Promise<{ failed: number; errors: { index: number; field: string }[] }>,
  good: T[],
  hostile: unknown[],
  table: 'orders' | 'customers' | 'events' | 'products',
  idOf: (item: T) => string,
  column: string,
): Promise<void> {
  const items: unknown[] = [];
  const hostileAt = new Set<number>();
  const spread = Math.max(1, Math.ceil(good.length / Math.max(hostile.length, 1)));
  let g = 0;
  for (const h of hostile) {
    for (let k = 0; k < spread && g < good.length; k++) items.push(good[g++]);
    hostileAt.add(items.length);
    items.push(h);
  }
  while (g < good.length) items.push(good[g++]);
  const result = await send(items);
  expect(new Set(result.errors.map((e) => e.index))).toEqual(hostileAt);
  expect(result.failed).toBe(hostileAt.size);
  for (const e of result.errors) expect(e.field).toBeTruthy();
  expect(await stored(table, column, good.map(idOf))).toBe(good.length);
}

describe('hostile values at every batch input', () => {
  it('orders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('externalId', 'customerExternalId', 'placedAt', 'unitPrice', 'quantity', 'product'), hostileText, hostileInstant, hostileAmount), {
          minLength: 1,
          maxLength: 4,
        }),
        async (goods, bad) => {
          const r = run++;
          const order = (i: number) => ({
            externalId: `o${r}-${i}`,
            customerExternalId: `c${r}-${i}`,
            placedAt: day(i),
            lines: [{ productExternalId: `p${i % 3}`, quantity: 1, unitPrice: 100 }],
          });
          const good = Array.from({ length: goods }, (_, i) => order(i));
          const hostile = bad.map(([field, text, instant, amount], i) => {
            const o = order(100 + i) as Record<string, unknown> & { lines: Record<string, unknown>[] };
            if (field === 'externalId' || field === 'customerExternalId') o[field] = text;
            if (field === 'placedAt') o.placedAt = instant;
            if (field === 'unitPrice') o.lines[0]!.unitPrice = amount;
            if (field === 'quantity') o.lines[0]!.quantity = amount;
            if (field === 'product') o.lines[0]!.productExternalId = text;
            return o;
          });
          await check(
            (items) => kokyaku.orders.record(kokyaku.context(), items as never),
            good,
            hostile,
            'orders',
            (o) => o.externalId,
            'external_id',
          );
        },
      ),
      { numRuns: 200 },
    );
    // A total past 2^53 minor units, made of lines that are each fine.
    const many = await kokyaku.orders.record(kokyaku.context(), [
      {
        externalId: 'huge',
        customerExternalId: 'c',
        placedAt: day(1),
        lines: [
          { productExternalId: 'p', quantity: 1_000_000, unitPrice: 9_000_000_000 },
          { productExternalId: 'q', quantity: 1_000_000, unitPrice: 9_000_000_000 },
        ],
      },
    ]);
    expect(many.errors.map((e) => e.field)).toEqual(['lines']);
  });

  it('customers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('externalId', 'email', 'firstName', 'city', 'tags', 'customFields', 'birthday', 'createdAt'), hostileText, hostileJson, hostileInstant), {
          minLength: 1,
          maxLength: 4,
        }),
        async (goods, bad) => {
          const r = run++;
          const customer = (i: number) => ({ externalId: `k${r}-${i}`, email: `k${r}-${i}@example.jp`, firstName: '花子', customFields: { skin: 'dry' } });
          const good = Array.from({ length: goods }, (_, i) => customer(i));
          const hostile = bad.map(([field, text, json, instant], i) => {
            const c = customer(100 + i) as Record<string, unknown>;
            if (field === 'tags') c.tags = ['ok', text];
            else if (field === 'customFields') c.customFields = json;
            else if (field === 'birthday') c.birthday = '0000-01-01';
            else if (field === 'createdAt') c.createdAt = instant;
            else if (field === 'email') c.email = text.length > 1000 ? `${text}@example.jp` : text;
            else c[field] = text;
            return c;
          });
          await check(
            (items) => kokyaku.customers.upsert(kokyaku.context(), items as never),
            good,
            hostile,
            'customers',
            (c) => c.externalId,
            'external_id',
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('events and products', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('eventId', 'properties', 'occurredAt', 'customer'), hostileText, hostileJson, hostileInstant), { minLength: 1, maxLength: 4 }),
        async (goods, bad) => {
          const r = run++;
          const event = (i: number) => ({
            eventId: `e${r}-${i}`,
            type: 'product_viewed',
            customerExternalId: `v${r}`,
            productExternalId: 'p1',
            occurredAt: day(i),
            properties: { source: 'search' },
          });
          const good = Array.from({ length: goods }, (_, i) => event(i));
          const hostile = bad.map(([field, text, json, instant], i) => {
            const e = event(100 + i) as Record<string, unknown>;
            if (field === 'eventId') e.eventId = text;
            if (field === 'properties') e.properties = json;
            if (field === 'occurredAt') e.occurredAt = instant;
            if (field === 'customer') e.customerExternalId = text;
            return e;
          });
          await check(
            (items) => kokyaku.events.track(kokyaku.context(), items as never),
            good,
            hostile,
            'events',
            (e) => e.eventId,
            'event_id',
          );
        },
      ),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('name', 'price', 'tags'), hostileText, hostileAmount), { minLength: 1, maxLength: 4 }),
        async (goods, bad) => {
          const r = run++;
          const product = (i: number) => ({ externalId: `sku${r}-${i}`, name: '珈琲', price: 1800 });
          const good = Array.from({ length: goods }, (_, i) => product(i));
          const hostile = bad.map(([field, text, amount], i) => {
            const p = product(100 + i) as Record<string, unknown>;
            if (field === 'name') p.name = text;
            if (field === 'price') p.price = amount;
            if (field === 'tags') p.tags = [text];
            return p;
          });
          await check(
            (items) => kokyaku.products.upsert(kokyaku.context(), items as never),
            good,
            hostile,
            'products',
            (p) => p.externalId,
            'external_id',
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('hostile cells in a CSV import', () => {
  it('stores every good row, refuses each row with a hostile required cell, never stops the file', async () => {
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(`${(process.env.TMPDIR ?? '/tmp').replace(/\/$/, '')}/kokyaku-hostile-`));
    const { writeFile, rm } = await import('node:fs/promises');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              // (A lone surrogate cannot be written to a UTF-8 file: Node writes U+FFFD.)
              fc.tuple(fc.constant('order_id'), fc.constantFrom('\u0000', 'x\u0000y', '\u0000\u0000')),
              fc.tuple(fc.constant('order_date'), fc.constantFrom('0000-01-01', '9999-12-31', '1899-12-31', '2026-13-45', 'x\u0000')),
              fc.tuple(fc.constant('unit_price'), fc.constantFrom('99999999999999999999', '1e308', '9007199254740993', '-1', '\u0000')),
              fc.tuple(fc.constant('quantity'), fc.constantFrom('-5', '0', '1.5', '99999999999', '\u0000')),
            ),
            { minLength: 1, maxLength: 5 },
          ),
          fc.integer({ min: 5, max: 40 }),
          async (bad, rows) => {
            const r = run++;
            const badAt = new Map<number, [string, string]>();
            bad.forEach((b, i) => badAt.set((i * 7) % rows, b));
            const lines = ['order_id,customer_id,order_date,sku,quantity,unit_price'];
            for (let i = 0; i < rows; i++) {
              const cells: Record<string, string> = {
                order_id: `csv${r}-${i}`,
                customer_id: `cc${i % 5}`,
                order_date: '2026-01-05',
                sku: `s${i % 4}`,
                quantity: '1',
                unit_price: '1200',
              };
              const hostile = badAt.get(i);
              if (hostile) cells[hostile[0]] = hostile[1];
              lines.push(['order_id', 'customer_id', 'order_date', 'sku', 'quantity', 'unit_price'].map((h) => cells[h]).join(','));
            }
            const path = `${dir}/orders-${r}.csv`;
            await writeFile(path, `${lines.join('\n')}\n`);
            const result = await kokyaku.imports.run(kokyaku.context(), { kind: 'orders', file: path });
            expect(result.phase).toBe('DONE');
            expect(result.rowsRead).toBe(rows);
            expect(result.rowsFailed).toBe(badAt.size);
            // Each refused row is reported on its own line, naming the hostile cell's column.
            expect(result.problems.filter((p) => !p.stored).map((p) => [p.line, p.column])).toEqual([...badAt].sort(([a], [b]) => a - b).map(([i, [column]]) => [i + 2, column]));
            const good = [...Array(rows).keys()].filter((i) => !badAt.has(i)).map((i) => `csv${r}-${i}`);
            expect(await stored('orders', 'external_id', good)).toBe(good.length);
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hostile values in queries', () => {
  it('a NUL or a lone surrogate in a segment query or a search is a coded mistake, never a database error', async () => {
    const ctx = kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('\u0000', '\uD800', '\uDFFF'), fc.string({ maxLength: 10 }), async (bad, around) => {
        const segment = await kokyaku.segments.count(ctx, `customer_tags CONTAINS '${around}${bad}'`).then(
          () => null,
          (e: { code?: string; details?: { line?: number; column?: number } }) => e,
        );
        expect(segment?.code).toBe('SEGMENT_QUERY_INVALID');
        expect(segment?.details?.line).toBe(1);
        const search = await kokyaku.customers.search(ctx, `${around}${bad}`).then(
          () => null,
          (e: { code?: string }) => e,
        );
        expect(search?.code).toBe('BAD_USER_INPUT');
      }),
      { numRuns: 50 },
    );
  });
});
