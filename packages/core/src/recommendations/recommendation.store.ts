import type { KokyakuContext } from '../context.js';
import type { OrderChange } from '../ingestion/batch.js';
import { todayIn } from '../segments/dates.js';
import { sql } from '../shared/sql.js';

/** Neighbours kept per product and kind. */
export const TOP_K = 50;
/** Shrinkage of co-occurrence scores: a pair seen n times keeps n / (n + SHRINK) of its score. */
export const SHRINK = 3;

const idsParam = (ids: Iterable<string>) => JSON.stringify([...new Set(ids)]);
const pairKey = (a: string, b: string) => `${a}|${b}`;

function addPairs(delta: Map<string, number>, products: readonly string[], by: number): void {
  for (const a of products) for (const b of products) if (a !== b) delta.set(pairKey(a, b), (delta.get(pairKey(a, b)) ?? 0) + by);
}

/**
 * Score expressions of the three neighbour kinds over `pp` (a product pair) with the stats of
 * both sides `sa`, `sb` (and products `pa`, `pb` for SIMILAR):
 * - BOUGHT_TOGETHER: cosine of the orders containing each, shrunk by support;
 * - ALSO_BOUGHT: cosine of the customers who bought each, shrunk by support;
 * - SIMILAR: half ALSO_BOUGHT, half attributes (Jaccard of categories and tags, times price closeness),
 *   so products without history still get neighbours.
 */
const COSINE = (pair: string, a: string, b: string) =>
  `(${pair}::float8 / sqrt(greatest(${a}, 1)::float8 * greatest(${b}, 1)::float8)) * (${pair}::float8 / (${pair} + ${SHRINK}))`;

const ATTRIBUTES = `(
  coalesce(cardinality(array(
    select unnest(array_cat(array(select 'c:' || x from unnest(pa.categories) x), array(select 't:' || x from unnest(pa.tags) x)))
    intersect
    select unnest(array_cat(array(select 'c:' || x from unnest(pb.categories) x), array(select 't:' || x from unnest(pb.tags) x))))), 0)::float8
  / greatest(1, cardinality(array(
    select unnest(array_cat(array(select 'c:' || x from unnest(pa.categories) x), array(select 't:' || x from unnest(pa.tags) x)))
    union
    select unnest(array_cat(array(select 'c:' || x from unnest(pb.categories) x), array(select 't:' || x from unnest(pb.tags) x))))))
  * (case when pa.price_minor > 0 and pb.price_minor > 0 then 1 / (1 + abs(ln(pa.price_minor::float8 / pb.price_minor))) else 0.5 end))`;

/** Removes the neighbour lists of some products ($2 JSON ids) or all (null), before NEIGHBOURS. */
const CLEAR_NEIGHBOURS = `
  delete from kokyaku.product_neighbours
  where tenant_id = $1 and ($2::jsonb is null or product_id in (select jsonb_array_elements_text($2::jsonb)::bigint))`;

/** Computes the top-K neighbour lists of some products ($2 JSON ids) or all (null). */
const NEIGHBOURS = `
  with scope as (
    select p.id from kokyaku.products p
    where p.tenant_id = $1 and ($2::jsonb is null or p.id in (select jsonb_array_elements_text($2::jsonb)::bigint))
  ),
  co as (
    select pp.product_a as a, pp.product_b as b, pp.baskets, pp.customers,
           ${COSINE('pp.baskets', 'sa.baskets', 'sb.baskets')} as together,
           ${COSINE('pp.customers', 'sa.customers', 'sb.customers')} as also
    from kokyaku.product_pairs pp
    join kokyaku.product_stats sa on sa.product_id = pp.product_a
    join kokyaku.product_stats sb on sb.product_id = pp.product_b
    where pp.tenant_id = $1 and pp.product_a in (select id from scope)
  ),
  alike as (
    -- Products sharing a category or tag: candidates for SIMILAR even without any shared buyer.
    select a.id as a, b.id as b
    from kokyaku.products a
    cross join lateral (
      select b.id from kokyaku.products b
      left join kokyaku.product_stats bs on bs.product_id = b.id
      where b.tenant_id = $1 and b.id <> a.id and (b.categories && a.categories or b.tags && a.tags)
      order by coalesce(bs.customers, 0) desc, b.id
      limit 200
    ) b
    where a.id in (select id from scope)
  ),
  alike_scored as (
    select c.a, c.b, coalesce(co.customers, 0) as support,
           0.5 * coalesce(co.also, 0) + 0.5 * ${ATTRIBUTES} as score
    from (select a, b from co where customers > 0 union select a, b from alike) c
    left join co on co.a = c.a and co.b = c.b
    join kokyaku.products pa on pa.id = c.a
    join kokyaku.products pb on pb.id = c.b
  ),
  ranked as (
    select a, b, 'BOUGHT_TOGETHER' as kind, together as score, baskets as support from co where baskets > 0
    union all
    select a, b, 'ALSO_BOUGHT', also, customers from co where customers > 0
    union all
    select a, b, 'SIMILAR', score, support from alike_scored where score > 0
  )
  insert into kokyaku.product_neighbours (product_id, kind, rank, tenant_id, neighbour_id, score, support)
  select a, kind, rank, $1, b, score, support from (
    select a, b, kind, score, support, row_number() over (partition by a, kind order by score desc, support desc, b) as rank
    from ranked
  ) r
  where rank <= ${TOP_K}`;

/**
 * The counts behind recommendations, kept current from order changes (and rebuilt from the
 * orders by `rebuild`). Cancelled orders never count: an order's contribution is added while it
 * is PLACED and taken back when it is cancelled, moved or re-lined.
 */
export class RecommendationStore {
  /** Applies a batch of order changes in the ingestion transaction. */
  async apply(ctx: KokyakuContext, changes: readonly OrderChange[]): Promise<void> {
    const tz = ctx.shop.timeZone;
    const basketPairs = new Map<string, number>();
    const productBaskets = new Map<string, number>();
    const daily = new Map<string, { baskets: number; quantity: number }>();
    const combos = new Map<string, { customerId: string; productId: string }>();
    const products = new Set<string>();

    for (const change of changes) {
      for (const [state, sign] of [
        [change.before, -1],
        [change.after, 1],
      ] as const) {
        if (!state) continue;
        const quantities = new Map<string, number>();
        for (const line of state.lines) quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
        const ids = [...quantities.keys()];
        addPairs(basketPairs, ids, sign);
        const day = todayIn(tz, state.placedAt);
        for (const [productId, quantity] of quantities) {
          products.add(productId);
          productBaskets.set(productId, (productBaskets.get(productId) ?? 0) + sign);
          const key = `${productId}|${day}`;
          const d = daily.get(key) ?? { baskets: 0, quantity: 0 };
          d.baskets += sign;
          d.quantity += sign * quantity;
          daily.set(key, d);
          combos.set(`${state.customerId}|${productId}`, { customerId: state.customerId, productId });
        }
      }
    }

    const nonZero = <T>(entries: [string, T][], value: (t: T) => number) => entries.filter(([, t]) => value(t) !== 0);
    const dailyRows = nonZero([...daily], (d) => d.baskets || d.quantity).map(([key, d]) => {
      const [productId, day] = key.split('|');
      return { product_id: productId, day, baskets: d.baskets, quantity: d.quantity };
    });
    if (dailyRows.length > 0) {
      await sql(
        ctx.em,
        `insert into kokyaku.product_daily as t (product_id, day, tenant_id, baskets, quantity)
         select v.product_id, v.day, $1, v.baskets, v.quantity from jsonb_to_recordset($2::jsonb) as v(product_id bigint, day date, baskets int, quantity int)
         on conflict (product_id, day) do update set baskets = t.baskets + excluded.baskets, quantity = t.quantity + excluded.quantity`,
        [ctx.tenantId, JSON.stringify(dailyRows)],
      );
    }
    await this.addToPairs(ctx, nonZero([...basketPairs], (n) => n), 'baskets');

    // What each touched customer bought, before and after, for each touched product.
    const comboList = [...combos.values()];
    const before = await this.customerProducts(ctx, comboList);
    await sql(
      ctx.em,
      `delete from kokyaku.customer_products cp
       using jsonb_to_recordset($2::jsonb) as k(customer_id bigint, product_id bigint)
       where cp.customer_id = k.customer_id and cp.product_id = k.product_id and cp.tenant_id = $1`,
      [ctx.tenantId, JSON.stringify(comboList.map((c) => ({ customer_id: c.customerId, product_id: c.productId })))],
    );
    const after = await sql<{ customer_id: string; product_id: string; orders: number }>(
      ctx.em,
      `insert into kokyaku.customer_products (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
       select o.customer_id, l.product_id, $1, count(distinct o.id), sum(l.quantity), min(o.placed_at), max(o.placed_at)
       from jsonb_to_recordset($2::jsonb) as k(customer_id bigint, product_id bigint)
       join kokyaku.orders o on o.customer_id = k.customer_id and o.tenant_id = $1 and o.status = 'PLACED'
       join kokyaku.order_lines l on l.order_id = o.id and l.product_id = k.product_id
       group by o.customer_id, l.product_id
       returning customer_id::text as customer_id, product_id::text as product_id, orders`,
      [ctx.tenantId, JSON.stringify(comboList.map((c) => ({ customer_id: c.customerId, product_id: c.productId })))],
    );
    const afterMap = new Map(after.map((r) => [`${r.customer_id}|${r.product_id}`, r.orders]));

    const stats = new Map<string, { baskets: number; customers: number; repeat: number }>();
    const stat = (id: string) => stats.get(id) ?? (stats.set(id, { baskets: 0, customers: 0, repeat: 0 }), stats.get(id)!);
    for (const [productId, n] of productBaskets) stat(productId).baskets += n;
    const added = new Map<string, Set<string>>();
    const removed = new Map<string, Set<string>>();
    for (const { customerId, productId } of comboList) {
      const key = `${customerId}|${productId}`;
      const was = before.get(key) ?? 0;
      const now = afterMap.get(key) ?? 0;
      const s = stat(productId);
      if (was === 0 && now > 0) {
        s.customers++;
        (added.get(customerId) ?? added.set(customerId, new Set()).get(customerId)!).add(productId);
      }
      if (was > 0 && now === 0) {
        s.customers--;
        (removed.get(customerId) ?? removed.set(customerId, new Set()).get(customerId)!).add(productId);
      }
      s.repeat += Number(now >= 2) - Number(was >= 2);
    }
    const statRows = [...stats].filter(([, s]) => s.baskets || s.customers || s.repeat).map(([id, s]) => ({ product_id: id, ...s }));
    if (statRows.length > 0) {
      await sql(
        ctx.em,
        `insert into kokyaku.product_stats as t (product_id, tenant_id, baskets, customers, repeat_customers)
         select v.product_id, $1, v.baskets, v.customers, v.repeat from jsonb_to_recordset($2::jsonb) as v(product_id bigint, baskets int, customers int, repeat int)
         on conflict (product_id) do update
           set baskets = t.baskets + excluded.baskets, customers = t.customers + excluded.customers,
               repeat_customers = t.repeat_customers + excluded.repeat_customers`,
        [ctx.tenantId, JSON.stringify(statRows)],
      );
    }

    // Customer-level pairs: a product a customer starts (or stops) owning pairs with all they own.
    const movers = [...new Set([...added.keys(), ...removed.keys()])];
    if (movers.length > 0) {
      const owned = new Map<string, string[]>();
      for (const row of await sql<{ customer_id: string; product_id: string }>(
        ctx.em,
        `select customer_id::text as customer_id, product_id::text as product_id from kokyaku.customer_products
         where tenant_id = $1 and customer_id in (select jsonb_array_elements_text($2::jsonb)::bigint)`,
        [ctx.tenantId, idsParam(movers)],
      )) {
        const list = owned.get(row.customer_id);
        if (list) list.push(row.product_id);
        else owned.set(row.customer_id, [row.product_id]);
      }
      const customerPairs = new Map<string, number>();
      for (const customerId of movers) {
        const now = owned.get(customerId) ?? [];
        const plus = added.get(customerId) ?? new Set<string>();
        const minus = removed.get(customerId) ?? new Set<string>();
        const was = [...now.filter((p) => !plus.has(p)), ...minus];
        for (const a of now) for (const b of now) if (a !== b && (plus.has(a) || plus.has(b))) customerPairs.set(pairKey(a, b), (customerPairs.get(pairKey(a, b)) ?? 0) + 1);
        for (const a of was) for (const b of was) if (a !== b && (minus.has(a) || minus.has(b))) customerPairs.set(pairKey(a, b), (customerPairs.get(pairKey(a, b)) ?? 0) - 1);
      }
      await this.addToPairs(ctx, nonZero([...customerPairs], (n) => n), 'customers');
    }

    // The lists of the ordered products change at once; their partners' at the next rebuild.
    if (products.size > 0) {
      await sql(ctx.em, CLEAR_NEIGHBOURS, [ctx.tenantId, idsParam(products)]);
      await sql(ctx.em, NEIGHBOURS, [ctx.tenantId, idsParam(products)]);
    }
  }

  private async addToPairs(ctx: KokyakuContext, deltas: [string, number][], column: 'baskets' | 'customers'): Promise<void> {
    if (deltas.length === 0) return;
    const rows = deltas.map(([key, n]) => {
      const [a, b] = key.split('|');
      return { a, b, n };
    });
    await sql(
      ctx.em,
      `insert into kokyaku.product_pairs as t (product_a, product_b, tenant_id, ${column})
       select v.a, v.b, $1, v.n from jsonb_to_recordset($2::jsonb) as v(a bigint, b bigint, n int)
       on conflict (product_a, product_b) do update set ${column} = t.${column} + excluded.${column}`,
      [ctx.tenantId, JSON.stringify(rows)],
    );
  }

  private async customerProducts(ctx: KokyakuContext, combos: { customerId: string; productId: string }[]): Promise<Map<string, number>> {
    if (combos.length === 0) return new Map();
    const rows = await sql<{ customer_id: string; product_id: string; orders: number }>(
      ctx.em,
      `select cp.customer_id::text as customer_id, cp.product_id::text as product_id, cp.orders
       from kokyaku.customer_products cp
       join jsonb_to_recordset($2::jsonb) as k(customer_id bigint, product_id bigint) on cp.customer_id = k.customer_id and cp.product_id = k.product_id
       where cp.tenant_id = $1`,
      [ctx.tenantId, JSON.stringify(combos.map((c) => ({ customer_id: c.customerId, product_id: c.productId })))],
    );
    return new Map(rows.map((r) => [`${r.customer_id}|${r.product_id}`, r.orders]));
  }

  /**
   * How often customers buy the same item again, per category (a product's first category; the
   * shop as a whole for the rest): of the customers who bought twice or more in a category, the
   * share who bought some item of it again. Groceries score high, furniture and films near 0.
   */
  async measureRepurchase(ctx: KokyakuContext): Promise<void> {
    await sql(
      ctx.em,
      `with per_customer as (
         select cp.customer_id, p.categories[1] as category, grouping(p.categories[1]) = 1 as is_total,
                sum(cp.orders) as purchases, bool_or(cp.orders >= 2) as rebought
         from kokyaku.customer_products cp join kokyaku.products p on p.id = cp.product_id
         where cp.tenant_id = $1
         group by grouping sets ((cp.customer_id, p.categories[1]), (cp.customer_id))
       ),
       rates as (
         -- A category nobody bought twice in counts as not bought again (rate 0).
         select category, is_total,
                coalesce(count(*) filter (where rebought)::float8 / nullif(count(*) filter (where purchases >= 2), 0), 0) as rate
         from per_customer
         group by category, is_total
       )
       insert into kokyaku.recommendation_state (tenant_id, repurchase, computed_at)
       select $1, jsonb_build_object(
                'shop', coalesce((select rate from rates where is_total), 0),
                'byCategory', coalesce((select jsonb_object_agg(category, rate) from rates where not is_total and category is not null), '{}'::jsonb)),
              now()
       on conflict (tenant_id) do update set repurchase = excluded.repurchase, computed_at = excluded.computed_at`,
      [ctx.tenantId],
    );
  }

  /** Rebuilds every count and list of the tenant from its orders. */
  async rebuild(ctx: KokyakuContext): Promise<void> {
    const t = [ctx.tenantId];
    for (const table of ['product_neighbours', 'product_pairs', 'product_daily', 'product_stats', 'customer_products']) {
      await sql(ctx.em, `delete from kokyaku.${table} where tenant_id = $1`, t);
    }
    await sql(
      ctx.em,
      `insert into kokyaku.customer_products (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
       select o.customer_id, l.product_id, $1, count(distinct o.id), sum(l.quantity), min(o.placed_at), max(o.placed_at)
       from kokyaku.orders o join kokyaku.order_lines l on l.order_id = o.id
       where o.tenant_id = $1 and o.status = 'PLACED'
       group by o.customer_id, l.product_id`,
      t,
    );
    await sql(
      ctx.em,
      `insert into kokyaku.product_stats (product_id, tenant_id, baskets, customers, repeat_customers)
       select p.id, $1,
              (select count(distinct l.order_id) from kokyaku.order_lines l join kokyaku.orders o on o.id = l.order_id
               where l.product_id = p.id and o.status = 'PLACED'),
              coalesce(c.customers, 0), coalesce(c.repeat, 0)
       from kokyaku.products p
       left join (select product_id, count(*) as customers, count(*) filter (where orders >= 2) as repeat
                  from kokyaku.customer_products where tenant_id = $1 group by product_id) c on c.product_id = p.id
       where p.tenant_id = $1`,
      t,
    );
    await sql(
      ctx.em,
      `insert into kokyaku.product_daily (product_id, day, tenant_id, baskets, quantity)
       select l.product_id, (o.placed_at at time zone $2::text)::date, $1, count(distinct o.id), sum(l.quantity)
       from kokyaku.orders o join kokyaku.order_lines l on l.order_id = o.id
       where o.tenant_id = $1 and o.status = 'PLACED'
       group by 1, 2`,
      [ctx.tenantId, ctx.shop.timeZone],
    );
    await sql(
      ctx.em,
      `insert into kokyaku.product_pairs (product_a, product_b, tenant_id, baskets)
       select a.product_id, b.product_id, $1, count(distinct a.order_id)
       from kokyaku.order_lines a
       join kokyaku.order_lines b on b.order_id = a.order_id and b.product_id <> a.product_id
       join kokyaku.orders o on o.id = a.order_id
       where o.tenant_id = $1 and o.status = 'PLACED'
       group by 1, 2`,
      t,
    );
    await sql(
      ctx.em,
      `insert into kokyaku.product_pairs as t (product_a, product_b, tenant_id, customers)
       select a.product_id, b.product_id, $1, count(*)
       from kokyaku.customer_products a
       join kokyaku.customer_products b on b.customer_id = a.customer_id and b.product_id <> a.product_id
       where a.tenant_id = $1
       group by 1, 2
       on conflict (product_a, product_b) do update set customers = excluded.customers`,
      t,
    );
    await sql(ctx.em, NEIGHBOURS, [ctx.tenantId, null]);
    await this.measureRepurchase(ctx);
  }
}
