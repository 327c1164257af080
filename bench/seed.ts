import type { Kokyaku } from '@kokyaku/core';

/**
 * Seeds a deterministic shop straight into PostgreSQL with set-based SQL (generate_series), far
 * faster than any API: `customers` customers, 3 orders and 10 order lines per customer on
 * average, `productCount(customers)` products in 20 categories (2,000 at a million customers, fewer
 * for smaller shops, at least 200), then the customer facts through Kokyaku's own
 * `refresh` (the same code that keeps them current on ingestion).
 */
/** Common family and given names with their readings (katakana, as shops store フリガナ). */
export const FAMILY: [string, string][] = [
  ['田中', 'タナカ'],
  ['佐藤', 'サトウ'],
  ['鈴木', 'スズキ'],
  ['高橋', 'タカハシ'],
  ['伊藤', 'イトウ'],
  ['渡辺', 'ワタナベ'],
  ['山本', 'ヤマモト'],
  ['中村', 'ナカムラ'],
  ['小林', 'コバヤシ'],
  ['加藤', 'カトウ'],
  ['吉田', 'ヨシダ'],
  ['山田', 'ヤマダ'],
  ['佐々木', 'ササキ'],
  ['山口', 'ヤマグチ'],
  ['松本', 'マツモト'],
  ['井上', 'イノウエ'],
  ['木村', 'キムラ'],
  ['林', 'ハヤシ'],
  ['斎藤', 'サイトウ'],
  ['清水', 'シミズ'],
];
export const GIVEN: [string, string][] = [
  ['花子', 'ハナコ'],
  ['太郎', 'タロウ'],
  ['一郎', 'イチロウ'],
  ['陽子', 'ヨウコ'],
  ['健', 'ケン'],
  ['美咲', 'ミサキ'],
  ['翔太', 'ショウタ'],
  ['さくら', 'サクラ'],
  ['大輔', 'ダイスケ'],
  ['由美', 'ユミ'],
  ['直樹', 'ナオキ'],
  ['恵', 'メグミ'],
  ['拓也', 'タクヤ'],
  ['彩', 'アヤ'],
  ['誠', 'マコト'],
  ['愛', 'アイ'],
  ['隆', 'タカシ'],
  ['真由美', 'マユミ'],
  ['浩', 'ヒロシ'],
  ['舞', 'マイ'],
];

/**
 * Readings: syllables picked from the row number, so that (like real names) nearly every full
 * reading is rare, while the kanji names above repeat. `kana(g)` gives the same in TypeScript.
 */
const SYLLABLES = 'アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワンガギグ';
const FAMILY_KANA = [1, 46, 2116];
const GIVEN_KANA = [1, 46];
const kanaSql = (g: string, divisors: number[]) => divisors.map((d) => `substr('${SYLLABLES}', 1 + ((${g}) / ${d}) % ${SYLLABLES.length}, 1)`).join(' || ');
const kanaOf = (g: number, divisors: number[]) => divisors.map((d) => SYLLABLES[Math.floor(g / d) % SYLLABLES.length]).join('');
export const kana = (g: number) => ({ family: kanaOf(g, FAMILY_KANA), given: kanaOf(g * 7, GIVEN_KANA) });

/** Products of the seeded shop: 2,000 at 1M customers, growing with the square root of the customers, at least 200. */
export const productCount = (customers: number) => Math.max(200, Math.min(2000, Math.round(2000 * Math.sqrt(customers / 1_000_000))));

export interface SeedSize {
  customers: number;
}

export async function seedShop(kokyaku: Kokyaku, size: SeedSize, log: (line: string) => void): Promise<{ orders: number; lines: number; products: number }> {
  const knex = kokyaku.orm.em.getKnex();
  log('  (timings of the seed are not benchmark figures)');
  // One connection for the whole seed, with foreign-key triggers off (the data is consistent by
  // construction): the bulk inserts then cost their index maintenance only.
  const trx = await knex.transaction();
  await trx.raw('set local session_replication_role = replica');
  const n = size.customers;
  const orders = n * 3;
  const lines = n * 10;
  const products = productCount(n);
  const step = async (label: string, sql: string, bindings: unknown[] = []) => {
    const started = performance.now();
    try {
      await trx.raw(sql, bindings as never[]);
    } catch (error) {
      await trx.rollback();
      throw error;
    }
    log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  await step(
    `${products.toLocaleString('en')} products`,
    `
    insert into kokyaku.products (tenant_id, external_id, name, price_minor, currency, categories, tags)
    select 'default', 'P' || g, 'Product ' || g, 200 + (g * 7919) % 9800, 'JPY',
           array['cat' || (g % 20)], array['tag' || (g % 50), 'tag' || ((g * 7) % 50)]
    from generate_series(1, ?::int) g`,
    [products],
  );
  await step(
    `${n.toLocaleString('en')} customers`,
    `
    insert into kokyaku.customers (tenant_id, external_id, email, phone, last_name, first_name, last_name_kana, first_name_kana,
                                   city, region, country, birthday, tags, custom_fields, email_consent, created_at)
    select 'default', 'C' || g, 'user' || g || '@' || (array['example.com', 'example.jp', 'example.net'])[1 + g % 3],
           '+8190' || lpad(((g::bigint * 7919) % 100000000)::text, 8, '0'),
           (array[${FAMILY.map((f) => `'${f[0]}'`).join(', ')}])[1 + g % ${FAMILY.length}],
           (array[${GIVEN.map((f) => `'${f[0]}'`).join(', ')}])[1 + (g / ${FAMILY.length}) % ${GIVEN.length}],
           ${kanaSql('g', FAMILY_KANA)}, ${kanaSql('g * 7', GIVEN_KANA)},
           (array['Tokyo', 'Osaka', 'Yokohama', 'Nagoya', 'Sapporo'])[1 + g % 5], 'R' || (g % 47),
           case when g % 10 < 7 then 'JP' else 'US' end,
           case when g % 5 = 0 then null else date '1960-01-01' + (g * 37 % 16000) end,
           case when g % 10 = 0 then array['vip'] when g % 7 = 0 then array['wholesale'] else '{}'::text[] end,
           jsonb_build_object('skin_type', (array['dry', 'oily', 'normal'])[1 + g % 3], 'score', g % 100),
           g % 3 <> 0, now() - ((g * 13) % 730) * interval '1 day'
    from generate_series(1, ?::int) g`,
    [n],
  );
  // Orders go to customers with a skew (many buy once, a few often); ids are 1..n in a fresh database.
  // Deterministic "random" numbers in [0, 1) from a hash of the row number.
  const uniform = (salt: string) => `((hashtext('${salt}' || g)::bigint + 2147483648) / 4294967296.0)`;
  await step(
    `${orders.toLocaleString('en')} orders`,
    `
    insert into kokyaku.orders (tenant_id, external_id, customer_id, placed_at, currency, status, total_minor, lines_digest)
    select 'default', 'O' || g, least(?::int, 1 + floor(?::int * power(${uniform('c')}, 1.6)))::bigint,
           now() - ${uniform('t')} * interval '730 days', 'JPY',
           case when g % 31 = 0 then 'CANCELLED' else 'PLACED' end, 0, ''
    from generate_series(1, ?::int) g`,
    [n, n, orders],
  );
  await step(
    `${lines.toLocaleString('en')} order lines`,
    `
    insert into kokyaku.order_lines (tenant_id, order_id, position, product_id, quantity, unit_price_minor)
    select 'default', 1 + ((g - 1)::bigint * ?::int) / ?::int, g, 1 + (g * 2654435761) % ?::int, 1 + g % 3, 200 + (g * 7919) % 9800
    from generate_series(1::bigint, ?::bigint) g`,
    [orders, lines, products, lines],
  );
  await step(
    'order totals',
    `
    update kokyaku.orders o set total_minor = t.total
    from (select order_id, sum(quantity * unit_price_minor) as total from kokyaku.order_lines group by order_id) t
    where t.order_id = o.id`,
  );
  await trx.commit();
  await knex.raw('vacuum analyze');
  const started = performance.now();
  await kokyaku.metrics.refresh(kokyaku.context());
  log(`  customer facts (metrics refresh): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await knex.raw('vacuum analyze kokyaku.customer_facts');
  return { orders, lines, products };
}
