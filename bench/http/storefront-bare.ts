import http from 'node:http';
import { defaultConfig, repeatChance } from '@kokyaku/core';
import type pg from 'pg';

/**
 * Baseline of the storefront benchmark: no GraphQL, no framework. A bare node:http server that
 * answers "recommended for you" (FOR_CUSTOMER, 10 items, the shop's default rules) for the shopper
 * named by the `x-shopper` header, with the list Kokyaku returns (checked before anything is
 * timed). It is the cheapest way a developer could produce that list from Kokyaku's tables: one
 * prepared statement per request (the customer's seeds, their neighbours and products, and what the
 * customer bought, as one JSON document), then the same scoring in JavaScript. The shop-wide
 * figures (popular list, buyer count, repurchase rates, blend) are kept for a minute, as Kokyaku
 * keeps them.
 */

export const STOREFRONT_QUERY = `query ForYou {
  recommendations(first: 10) { score reason strategy product { externalId name price } }
}`;
export const SHOPPER_HEADER = 'x-shopper';

const FIRST = 10;
const WEIGHTS: Record<string, number> = { purchase: 1, added_to_cart: 0.6, product_viewed: 0.3 };
// Kokyaku's defaults, which the bench shop does not change.
const { recencyHalfLifeDays: HALF_LIFE_DAYS, repurchaseThreshold: REPURCHASE_THRESHOLD } = defaultConfig().recommendations;
const POPULAR_DAYS = 30;
const TIME_ZONE = 'Asia/Tokyo';

interface Product {
  id: string;
  externalId: string;
  name: string;
  price: number | null;
  categories: string[];
  inStock: boolean;
}
interface Seed {
  product_id: string;
  kind: string;
  at: string;
  times: number;
  first: string | null;
  cycle: number | null;
}
interface Shopper {
  orders: number;
  seeds: Seed[] | null;
  customers: Record<string, number> | null;
  /** "product,neighbour,score;...": half the cost of JSON objects to build and to read. */
  neighbours: string | null;
  products: Product[] | null;
  purchased: string[] | null;
}
interface ShopFigures {
  popular: { productId: string; score: number; share: number; reason: string }[];
  products: Map<string, Product>;
  buyers: number;
  repurchase: { shop: number; byCategory: Record<string, number> };
  blend: { popularity: number; repeat: number; cycles: boolean };
}

const PRODUCT_JSON = `json_build_object('id', p.id::text, 'externalId', p.external_id, 'name', p.name, 'price', p.price_minor, 'categories', p.categories, 'inStock', p.in_stock)`;

const SHOPPER = `
  with c as (select id from kokyaku.customers where tenant_id = 'default' and external_id = $1),
  seeds as (
    (select cp.product_id, 'purchase' as kind, cp.last_at as at, cp.orders as times, 1 as part, cp.first_at as first, s.cycle_days as cycle
     from kokyaku.customer_products cp join c on cp.customer_id = c.id
     left join kokyaku.product_stats s on s.tenant_id = cp.tenant_id and s.product_id = cp.product_id
     order by cp.orders desc, cp.last_at desc, cp.product_id limit 50)
    union all
    (select e.product_id, e.type, max(e.occurred_at), count(*)::int, 2, null, null
     from kokyaku.events e join c on e.customer_id = c.id
     where e.tenant_id = 'default' and e.product_id is not null and e.type in ('product_viewed', 'added_to_cart')
       and e.occurred_at > $2::timestamptz - interval '90 days' and e.occurred_at <= $2::timestamptz
     group by e.product_id, e.type order by max(e.occurred_at) desc limit 50)
  ),
  numbered as (select *, row_number() over () as n from seeds),
  neighbours as (
    select n.product_id, n.neighbour_id, n.score, n.rank from kokyaku.product_neighbours n
    where n.kind = 'ALSO_BOUGHT' and n.product_id in (select product_id from seeds)
  )
  select
    (select f.orders_count from kokyaku.customer_facts f join c on f.customer_id = c.id where f.tenant_id = 'default') as orders,
    (select json_agg(json_build_object('product_id', product_id::text, 'kind', kind, 'at', at, 'times', times, 'first', first, 'cycle', cycle) order by part, n) from numbered) as seeds,
    (select json_object_agg(s.product_id::text, s.customers) from kokyaku.product_stats s where s.product_id in (select product_id from seeds)) as customers,
    (select string_agg(concat_ws(',', product_id, neighbour_id, score), ';' order by product_id, rank) from neighbours) as neighbours,
    (select json_agg(${PRODUCT_JSON}) from kokyaku.products p
     where p.id in (select neighbour_id from neighbours union select product_id from seeds)) as products,
    (select json_agg(cp.product_id::text) from kokyaku.customer_products cp join c on cp.customer_id = c.id) as purchased`;

function today(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function loadShopFigures(pool: pg.Pool, now: Date): Promise<ShopFigures> {
  const day = today(now);
  const {
    rows: [state],
  } = await pool.query<{
    last: string | null;
    buyers: number;
    repurchase: ShopFigures['repurchase'] | null;
    blend: number | null;
    repeat_weight: number | null;
    cycles: boolean | null;
  }>(
    `select (select to_char(max(day), 'YYYY-MM-DD') from kokyaku.product_daily where tenant_id = 'default' and day <= $1::date and baskets > 0) as last,
            (select count(*)::int from kokyaku.customer_facts where tenant_id = 'default' and orders_count > 0) as buyers,
            (select repurchase from kokyaku.recommendation_state where tenant_id = 'default') as repurchase,
            (select blend from kokyaku.recommendation_state where tenant_id = 'default') as blend,
            (select repeat_weight from kokyaku.recommendation_state where tenant_id = 'default') as repeat_weight,
            (select cycles from kokyaku.recommendation_state where tenant_id = 'default') as cycles`,
    [day],
  );
  const figures: ShopFigures = {
    popular: [],
    products: new Map(),
    buyers: state?.buyers ?? 1,
    repurchase: state?.repurchase ?? { shop: 0, byCategory: {} },
    blend: { popularity: state?.blend ?? 0.5, repeat: state?.repeat_weight ?? 0.5, cycles: state?.cycles ?? true },
  };
  if (!state?.last) return figures;
  const end = state.last > addDays(day, -POPULAR_DAYS) ? day : state.last;
  const { rows } = await pool.query<{ product_id: string; baskets: number; product: Product }>(
    `select d.product_id::text as product_id, d.baskets, ${PRODUCT_JSON} as product
     from (select product_id, sum(baskets)::int as baskets from kokyaku.product_daily
           where tenant_id = 'default' and day > $1::date and day <= $2::date group by product_id having sum(baskets) > 0
           order by 2 desc, product_id::text limit 500) d
     join kokyaku.products p on p.id = d.product_id
     order by d.baskets desc, d.product_id::text`,
    [addDays(end, -POPULAR_DAYS), end],
  );
  const top = rows[0]?.baskets ?? 1;
  const { rows: counted } = await pool.query<{ orders: number }>(
    `select count(*)::int as orders from kokyaku.orders
     where tenant_id = 'default' and status = 'PLACED' and placed_at >= ($1::date + 1)::timestamp at time zone $3 and placed_at < ($2::date + 1)::timestamp at time zone $3`,
    [addDays(end, -POPULAR_DAYS), end, TIME_ZONE],
  );
  const orders = counted[0]?.orders ?? 0;
  const window = end === day ? `in the last ${POPULAR_DAYS} days` : `in the ${POPULAR_DAYS} days to ${end}`;
  figures.popular = rows.map((r) => ({
    productId: r.product_id,
    score: r.baskets / top,
    share: Math.min(1, r.baskets / Math.max(orders, 1)),
    reason: `Popular: ordered ${r.baskets} times ${window}`,
  }));
  for (const r of rows) figures.products.set(r.product_id, r.product);
  return figures;
}

interface Item {
  productId: string;
  score: number;
  reason: string;
  strategy: string;
  repeat: number;
  explore: number;
  popularity: number;
  damp: number;
}

function recommend(shopper: Shopper, shop: ShopFigures, now: Date) {
  const seeds = shopper.seeds ?? [];
  const products = new Map(shop.products);
  for (const p of shopper.products ?? []) products.set(p.id, p);
  const purchased = new Set(shopper.purchased ?? []);
  const candidates: Item[] = [];
  // What the customer is stocked up on (the first half of their own cycle of it) is left out.
  const stocked = new Set<string>();
  if (seeds.length > 0) {
    const buyers = Math.max(shop.buyers, 1);
    const idf = (id: string) => Math.max(0.05, Math.log(buyers / Math.max(1, shopper.customers?.[id] ?? 1)));
    const at = now.getTime();
    const age = (s: Seed) => Math.max(0, (at - new Date(s.at).getTime()) / 86_400_000);
    const weight = new Map<string, { w: number; kind: string }>();
    for (const s of seeds) {
      const w = WEIGHTS[s.kind]! * Math.log2(1 + s.times) * 0.5 ** (age(s) / HALF_LIFE_DAYS) * idf(s.product_id);
      const current = weight.get(s.product_id);
      weight.set(s.product_id, { w: (current?.w ?? 0) + w, kind: current && current.w > w ? current.kind : s.kind });
    }
    const votes = new Map<string, { score: number; best: { seed: string; part: number } }>();
    for (const entry of shopper.neighbours ? shopper.neighbours.split(';') : []) {
      const [product_id, neighbour_id, score] = entry.split(',') as [string, string, string];
      const n = { product_id, neighbour_id, score: Number(score) };
      const part = weight.get(n.product_id)!.w * n.score;
      const v = votes.get(n.neighbour_id) ?? { score: 0, best: { seed: n.product_id, part: 0 } };
      v.score += part;
      if (part > v.best.part) v.best = { seed: n.product_id, part };
      votes.set(n.neighbour_id, v);
    }
    const popular = shop.popular.slice(0, 200);
    const popularity = new Map(popular.map((p) => [p.productId, p.share]));
    const repeats = new Map(
      seeds
        .filter((s) => s.kind === 'purchase')
        .map((s) => [
          s.product_id,
          { times: s.times, ...repeatChance({ times: s.times, first: new Date(s.first ?? s.at), last: new Date(s.at), productCycleDays: s.cycle }, shopper.orders, now) },
        ]),
    );
    for (const [id, r] of repeats) if (r.stocked) stocked.add(id);
    const top = Math.max(...[...votes.values()].map((v) => v.score), 1e-9);
    const ids = new Set([...votes.keys(), ...repeats.keys()]);
    for (const productId of ids) {
      const v = votes.get(productId);
      const r = repeats.get(productId);
      const explore = v ? v.score / top : 0;
      const repeat = r ? r.times * r.recency * (r.rhythm ? 1 : r.due) : 0;
      let reason: string;
      if (v && (!r || explore >= r.score)) {
        const seed = weight.get(v.best.seed)!;
        const verb = seed.kind === 'purchase' ? 'bought' : seed.kind === 'added_to_cart' ? 'added to your cart' : 'viewed';
        reason = `Because you ${verb} ${products.get(v.best.seed)?.name ?? 'an item'}`;
      } else {
        const days = Math.round(r!.cycleDays ?? 0);
        const cycle = r!.own ? `you buy it about every ${days} day(s)` : `its buyers buy it again about every ${days} day(s)`;
        reason = `Buy again: you bought it ${r!.times} time(s)${r!.cycleDays ? `; ${cycle}` : ''}`;
      }
      candidates.push({ productId, score: 0, repeat, explore, popularity: popularity.get(productId) ?? 0, damp: r?.rhythm ? r.due : 1, reason, strategy: 'FOR_CUSTOMER' });
    }
    for (const p of popular) {
      if (!ids.has(p.productId)) candidates.push({ ...p, repeat: 0, explore: 0, popularity: p.share, damp: 1, strategy: 'POPULAR' });
    }
  }
  // Kokyaku's blend (see `Blend` in core): the customer's frequency with popularity as its prior, and the neighbours.
  const { popularity: w, repeat: rw, cycles } = shop.blend;
  const a = w / (1 - w);
  const frequency = (c: Item) => (Number.isFinite(a) ? (c.repeat + a * c.popularity) / ((shopper.orders ?? 0) + a) : c.popularity);
  const top = Math.max(1e-12, ...candidates.map(frequency));
  const ranked = candidates
    .filter((c) => !(cycles && stocked.has(c.productId)))
    .map((c) => ({ ...c, score: (cycles ? c.damp : 1) * ((rw * frequency(c)) / top + (1 - rw) * c.explore) }))
    .sort((a, b) => b.score - a.score || b.popularity - a.popularity || (a.productId < b.productId ? -1 : 1));
  // Too few candidates (a shopper with no history): filled with what is popular now.
  if (candidates.length < FIRST) {
    const inList = new Set(ranked.map((c) => c.productId));
    for (const p of shop.popular.slice(0, FIRST * 3 + purchased.size + 10)) {
      if (!inList.has(p.productId)) ranked.push({ ...p, score: 0, strategy: 'POPULAR', repeat: 0, explore: 0, popularity: p.share, damp: 1 });
    }
  }
  const out = [];
  // Left out with cycles on, the fill included.
  const seen = new Set<string>(cycles ? stocked : []);
  for (const c of ranked) {
    const p = products.get(c.productId);
    if (!p || seen.has(c.productId) || !p.inStock) continue;
    if (purchased.has(c.productId) && (shop.repurchase.byCategory[p.categories[0] ?? ''] ?? shop.repurchase.shop) < REPURCHASE_THRESHOLD) continue;
    seen.add(c.productId);
    // The shop sells in yen: minor units are major units.
    out.push({ score: c.score, reason: c.reason, strategy: c.strategy, product: { externalId: p.externalId, name: p.name, price: p.price === null ? null : Number(p.price) } });
    if (out.length === FIRST) break;
  }
  return out;
}

export async function startBareRecommendations(pool: pg.Pool): Promise<number> {
  let shop: { expires: number; figures: Promise<ShopFigures> } | null = null;
  const shopFigures = (now: Date) => {
    if (!shop || shop.expires <= now.getTime()) shop = { expires: now.getTime() + 60_000, figures: loadShopFigures(pool, now) };
    return shop.figures;
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const shopper = req.headers[SHOPPER_HEADER];
      if (typeof shopper !== 'string') return reply(200, { data: { recommendations: [] } });
      const now = new Date();
      Promise.all([shopFigures(now), pool.query<Shopper>({ name: 'shopper', text: SHOPPER, values: [shopper, now.toISOString()] })]).then(
        ([figures, { rows }]) => reply(200, { data: { recommendations: recommend(rows[0]!, figures, now) } }),
        (error: unknown) => reply(500, { errors: [{ message: String(error) }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as import('node:net').AddressInfo).port;
}
