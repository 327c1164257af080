import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KokyakuError } from '../shared/errors.js';
import { compileSegmentQuery } from '../modules.js';
import { SegmentQueryError } from './errors.js';

const options = { timeZone: 'Asia/Tokyo', currency: 'JPY', today: '2026-11-22' };
const compile = (query: string) => compileSegmentQuery(query, options);
const readsProfile = (query: string) => compile(query).joins.some((j) => j.alias === 'c');

function failure(query: string): SegmentQueryError {
  try {
    compile(query);
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentQueryError);
    return error as SegmentQueryError;
  }
  throw new Error(`expected "${query}" to fail`);
}

describe('compiled SQL', () => {
  it('binds every value as a parameter', () => {
    const { where, params } = compile(`email = 'x'' or 1=1 --' AND custom.skin_type = "a\\"b" AND amount_spent >= 100`);
    expect(where).not.toContain('or 1=1');
    expect(where).not.toContain('a"b');
    expect(params).toEqual(["x' or 1=1 --", JSON.stringify({ skin_type: 'a"b' }), 100]);
    expect(where).toMatch(/\(c\.email = \$2::text\)/);
  });

  it('converts money to minor units of the shop currency', () => {
    expect(compileSegmentQuery('amount_spent >= 12.5', { ...options, currency: 'USD' }).params).toEqual([1250]);
    // 12.345 USD is 1234.5 cents: >= rounds up, < rounds up, > and <= round down, = matches nothing.
    expect(compileSegmentQuery('amount_spent >= 12.345', { ...options, currency: 'USD' }).params).toEqual([1235]);
    expect(compileSegmentQuery('amount_spent > 12.345', { ...options, currency: 'USD' }).params).toEqual([1234]);
    expect(compileSegmentQuery('amount_spent = 12.345', { ...options, currency: 'USD' }).where).toBe('false');
  });

  it('turns relative dates into day starts in the shop time zone', () => {
    const { where, params } = compile('last_order_date > -30d');
    expect(where).toBe('(f.last_order_at >= (($2::date)::timestamp at time zone $3::text))');
    expect(params).toEqual(['2026-10-24', 'Asia/Tokyo']);
  });

  it('reads the customer row only for profile attributes and custom fields', () => {
    expect(readsProfile("amount_spent > 1 AND customer_tags CONTAINS 'vip' AND country = 'JP' AND last_order_date > -30d")).toBe(false);
    expect(readsProfile("amount_spent > 1 AND email_domain = 'example.jp' AND city = 'Osaka'")).toBe(false);
    expect(readsProfile("amount_spent > 1 AND email = 'a@example.jp'")).toBe(true);
    expect(readsProfile("custom.skin_type = 'dry'")).toBe(true);
  });

  it('binds AND tighter than OR, and pushes NOT down', () => {
    expect(compile('number_of_orders = 1 OR number_of_orders = 2 AND amount_spent = 3').where).toBe(
      '((f.orders_count = $2::bigint) or ((f.orders_count = $3::bigint) and (f.total_spent_minor = $4::bigint)))',
    );
    expect(compile('NOT (number_of_orders = 1 OR amount_spent = 3)').where).toBe(
      '((not coalesce((f.orders_count = $2::bigint), false)) and (not coalesce((f.total_spent_minor = $3::bigint), false)))',
    );
  });
});

describe('invalid queries', () => {
  it.each([
    ['amount_spnt >= 100', 1, 1, 'amount_spent', /Unknown attribute "amount_spnt"/],
    ['amount_spent >= 100 AND\n  numbr_of_orders > 2', 2, 3, 'number_of_orders', /Unknown attribute/],
    ["customer_tags CONTAINS 'vip' ANDD amount_spent > 1", 1, 30, 'AND', /Unexpected "ANDD"/],
    ["email = 'unterminated", 1, 9, undefined, /Unterminated string/],
    ['last_order_date > 2026-02-30', 1, 19, undefined, /not a calendar date/],
    ["last_order_date > 'yesterday'", 1, 19, undefined, /takes a date/],
    ['amount_spent > -30d', 1, 16, undefined, /takes a number/],
    ["amount_spent CONTAINS 'x'", 1, 14, undefined, /CONTAINS works on lists/],
    ["customer_tags = 'vip'", 1, 15, "customer_tags CONTAINS 'vip'", /is a list/],
    ['email > 5', 1, 7, undefined, /is text/],
    ['email_subscription_status = SUBSCRIBD', 1, 29, 'SUBSCRIBED', /is one of SUBSCRIBED, NOT_SUBSCRIBED/],
    ['amount_spent IS NULL', 1, 14, undefined, /never NULL/],
    ["products_purchased MATCHES (categroy = 'coffee')", 1, 29, 'category', /has no argument "categroy"/],
    ["products_purchase MATCHES (product = 'x')", 1, 1, 'products_purchased', /Unknown function/],
    ['products_purchased >= 2', 1, 1, undefined, /is a function/],
    ["orders_placed MATCHES (amount >= 'a lot')", 1, 34, undefined, /takes a number/],
    ['(amount_spent > 1', 1, 18, undefined, /Expected "\)"/],
    ['amount_spent >', 1, 15, undefined, /Expected a value/],
    ['', 1, 1, undefined, /empty/],
    ['amount_spent 100', 1, 14, undefined, /Expected an operator/],
    ['anniversary(birthdy) BETWEEN today AND +7d', 1, 13, 'birthday', /anniversary\(\) takes/],
    ['anniversary(birthday) > today', 1, 1, undefined, /BETWEEN or =/],
    ['last_order_date > 30d', 1, 19, undefined, /needs a sign/],
    ['amount_spent > 10 OR # 1', 1, 22, undefined, /Unexpected character "#"/],
    ["email = 'a' OR '1'='1'", 1, 16, undefined, /Expected an attribute/],
    ["email = 'a'; drop table kokyaku.customers; --'", 1, 12, undefined, /Unexpected character ";"/],
    ["email = 'it\\'s' OR 1=1", 1, 20, undefined, /Expected an attribute/],
  ] as const)('%s', (query, line, column, suggestion, message) => {
    const error = failure(query);
    expect(error.code).toBe('SEGMENT_QUERY_INVALID');
    expect(error.message).toMatch(message);
    expect(error.details).toMatchObject({ line, column });
    if (suggestion) expect(error.details.suggestion).toBe(suggestion);
  });

  it('lists what it expected', () => {
    expect(failure('amount_spent').details.expected).toContain('BETWEEN');
  });

  it('refuses absurdly deep nesting without overflowing the stack', () => {
    expect(failure(`${'('.repeat(5000)}amount_spent > 1${')'.repeat(5000)}`).message).toMatch(/nests deeper|longer than/);
    expect(failure(`${'NOT '.repeat(2000)}amount_spent > 1`).message).toMatch(/nests deeper/);
  });
});

describe('fuzzing', () => {
  const vocabulary = [
    'amount_spent',
    'number_of_orders',
    'last_order_date',
    'customer_tags',
    'email',
    'custom.x',
    'custom',
    'products_purchased',
    'orders_placed',
    'events',
    'anniversary(birthday)',
    'MATCHES',
    'NOT',
    'AND',
    'OR',
    'BETWEEN',
    'CONTAINS',
    'IS',
    'NULL',
    '(',
    ')',
    ',',
    '=',
    '!=',
    '>=',
    '<',
    "'a'",
    '"b"',
    "'",
    '"',
    '12',
    '-3',
    '2026-01-01',
    '-30d',
    '+2w',
    'today',
    'count',
    'date',
    'product',
    'category',
    'SUBSCRIBED',
    '.',
    '\\',
    '\n',
    ' ',
    '😀',
    '--',
    ';',
    'drop table x',
  ];

  it('never throws anything but a coded error on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          compile(text);
        } catch (error) {
          expect(error).toBeInstanceOf(KokyakuError);
          expect((error as KokyakuError).code).toBe('SEGMENT_QUERY_INVALID');
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws anything but a coded error on random token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...vocabulary), { maxLength: 30 }), (tokens) => {
        try {
          const { where, params } = compile(tokens.join(' '));
          expect(typeof where).toBe('string');
          expect(params.every((p) => p !== undefined)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(SegmentQueryError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
