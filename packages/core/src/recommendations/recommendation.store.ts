import type { KokyakuContext } from '../shared/context.js';
import type { OrderChange } from '../ingestion/batch.js';
import { todayIn } from '../shared/dates.js';
import { sql, transaction } from '../shared/sql.js';
import { ALIKE_CANDIDATES, type NeighbourRow, type Partner, type ProductFacts, alikeOrder, compareIds, featuresOf, neighbourLists } from './neighbours.js';

const idsParam = (ids: Iterable<string>) => JSON.stringify([...new Set(ids)]);
const pairKey = (a: string, b: string) => `${a}|${b}`;

function addPairs(delta: Map<string, number>, products: readonly string[], by: number): void {
  for (const a of products) for (const b of products) if (a !== b) delta.set(pairKey(a, b), (delta.get(pairKey(a, b)) ?? 0) + by);
}

/**
 * The products of a basket that count in "bought together" pairs. A basket pairs each of its n
 * products with every other: n² pairs, 90,000 for a wholesale order of 300 lines. Above
 * PAIR_BASKET distinct products, a fixed sample of PAIR_BASKET of them stands for the basket (1,560
 * pairs at most): the ones whose hash with the basket's content is smallest, so the same basket
 * always gives the same sample (a cancellation takes back exactly what it added, a rebuild
 * counts what the upkeep counted). Baskets of that size are wholesale orders, where pairs say
 * little about what goes together anyway. Product counts (baskets, customers) count every product.
 */
export const PAIR_BASKET = 40;

export function pairBasket(productIds: readonly string[]): readonly string[] {
  if (productIds.length <= PAIR_BASKET) return productIds;
  const signature = fnv1a([...productIds].sort(compareIds).join(','));
  return [...productIds]
    .map((id) => ({ id, rank: fnv1a(id, signature) }))
    .sort((x, y) => x.rank - y.rank || compareIds(x.id, y.id))
    .slice(0, PAIR_BASKET)
    .map((x) => x.id);
}

/** 32-bit FNV-1a of a string, from `seed`. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Cells of the in-memory pair-count matrices per pass of the rebuild (rows x products). */
const PASS_CELLS = 8_000_000;
/** Orders or customers read per statement by the rebuild. */
const READ_CHUNK = 100_000;
/** Rows written per statement by the rebuild and the upkeep. */
const WRITE_CHUNK = 50_000;
/**
 * Logged ownership changes folded per transaction by `catchUp` (a whole history's backlog is
 * folded a chunk at a time), and customer pair deltas held in memory before they are written.
 */
const FOLD_CHUNK = 5_000;
const PAIR_FLUSH = 200_000;
/**
 * "Customers who bought A also bought B" pairs every two products a customer owns: n² for a
 * wholesale customer who owns n. Customers who own more than OWNER_PAIRS products (resellers,
 * B2B accounts: their assortment says little about what goes together) add no customer pairs;
 * their orders still count in every other figure and in "bought together".
 */
export const OWNER_PAIRS = 250;

/** Writes rows column-wise: each column one comma-separated text parameter, unnested in SQL. */
async function writeColumns(em: KokyakuContext['em'], text: string, tenantId: string, columns: (string | number)[][]): Promise<void> {
  const n = columns[0]?.length ?? 0;
  for (let i = 0; i < n; i += WRITE_CHUNK) {
    await sql(em, text, [tenantId, ...columns.map((c) => c.slice(i, i + WRITE_CHUNK).join(','))]);
  }
}

const INSERT_NEIGHBOURS = `
  insert into kokyaku.product_neighbours (product_id, kind, rank, tenant_id, neighbour_id, score, support)
  select v.product_id, v.kind, v.rank, $1, v.neighbour_id, v.score, v.support
  from unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ','), string_to_array($4, ',')::smallint[],
              string_to_array($5, ',')::bigint[], string_to_array($6, ',')::float8[], string_to_array($7, ',')::int[])
       as v(product_id, kind, rank, neighbour_id, score, support)`;

function writeNeighbours(em: KokyakuContext['em'], tenantId: string, rows: readonly NeighbourRow[]): Promise<void> {
  return writeColumns(em, INSERT_NEIGHBOURS, tenantId, [
    rows.map((r) => r.productId),
    rows.map((r) => r.kind),
    rows.map((r) => r.rank),
    rows.map((r) => r.neighbourId),
    rows.map((r) => r.score),
    rows.map((r) => r.support),
  ]);
}

/** Variable-length lists of small ints in one flat array (offsets[i]..offsets[i+1]), each value with an optional weight. */
class Lists {
  values = new Int32Array(1 << 16);
  weights = new Int32Array(1 << 16);
  offsets: number[] = [0];
  private length = 0;
  push(list: readonly number[], weights?: readonly number[]): void {
    if (this.length + list.length > this.values.length) {
      const size = Math.max(this.values.length * 2, this.length + list.length);
      const values = new Int32Array(size);
      values.set(this.values.subarray(0, this.length));
      this.values = values;
      const grownWeights = new Int32Array(size);
      grownWeights.set(this.weights.subarray(0, this.length));
      this.weights = grownWeights;
    }
    this.values.set(list, this.length);
    if (weights) this.weights.set(weights, this.length);
    this.length += list.length;
    this.offsets.push(this.length);
  }
  get count(): number {
    return this.offsets.length - 1;
  }
}

/**
 * The counts behind recommendations, kept current from order changes (and rebuilt from the
 * orders by `rebuild`). Cancelled orders never count: an order's contribution is added while it
 * is PLACED and taken back when it is cancelled, moved or re-lined.
 */
export class RecommendationStore {
  /** Applies a batch of order changes in the ingestion transaction. */
  async apply(ctx: KokyakuContext, changes: readonly OrderChange[]): Promise<void> {
    const t = tallyChanges(changes, ctx.shop.timeZone);
    await writeDaily(ctx, t.daily);
    const pairDeltas = new Map<string, { baskets: number; customers: number }>();
    for (const [key, n] of t.basketPairs) if (n !== 0) pairDeltas.set(key, { baskets: n, customers: 0 });

    // What each touched customer bought, before and after, for each touched product.
    const comboList = [...t.combos.values()].sort((x, y) => compareIds(x.customerId, y.customerId) || compareIds(x.productId, y.productId));
    const { before, afterMap } = t.onlyAdds ? await this.addCustomerProducts(ctx, comboList, t.added) : await this.recountCustomerProducts(ctx, comboList);
    const { stats, gained, lost } = ownershipMoves(comboList, before, afterMap, t.productBaskets);
    await writeStats(ctx, stats);
    await logOwnership(ctx, gained, lost);
    await this.addPairs(ctx, pairDeltas, t.products);
  }

  /** Adds pair deltas and marks every product whose pairs changed (and `touched`) stale. */
  private async addPairs(ctx: KokyakuContext, pairDeltas: Map<string, { baskets: number; customers: number }>, touched: Set<string>): Promise<void> {
    const products = new Set(touched);
    const pairRows = [...pairDeltas].filter(([, d]) => d.baskets !== 0 || d.customers !== 0).map(([key, d]) => ({ ids: key.split('|') as [string, string], ...d }));
    if (pairRows.length > 0) {
      pairRows.sort((x, y) => compareIds(x.ids[0], y.ids[0]) || compareIds(x.ids[1], y.ids[1]));
      for (const { ids } of pairRows) products.add(ids[0]);
      // In statements of WRITE_CHUNK rows, in (a, b) order: the same order for every writer.
      await writeColumns(
        ctx.em,
        `insert into kokyaku.product_pairs as t (product_a, product_b, tenant_id, baskets, customers)
         select v.a, v.b, $1, v.n, v.m
         from unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::bigint[], string_to_array($4, ',')::int[], string_to_array($5, ',')::int[])
              as v(a, b, n, m)
         on conflict (product_a, product_b, tenant_id) do update set baskets = t.baskets + excluded.baskets, customers = t.customers + excluded.customers`,
        ctx.tenantId,
        [pairRows.map((r) => r.ids[0]), pairRows.map((r) => r.ids[1]), pairRows.map((r) => r.baskets), pairRows.map((r) => r.customers)],
      );
    }
    // Every product whose pairs changed gets its lists recomputed on its next read (`freshen`).
    if (products.size > 0) {
      await sql(
        ctx.em,
        `insert into kokyaku.product_neighbours_stale (product_id, tenant_id)
         select jsonb_array_elements_text($2::jsonb)::bigint, $1 on conflict (product_id, tenant_id) do nothing`,
        [ctx.tenantId, idsParam([...products].sort(compareIds))],
      );
    }
  }

  /**
   * Folds logged ownership changes into the customer-level pair counts: a product a customer
   * started owning pairs with everything they own after it, a product they stopped owning with
   * everything they owned before. Safe to run concurrently (each logged change is taken once)
   * and with ingestion: ownership and the changes not yet taken are read in one snapshot.
   * Returns the number of changes folded.
   */
  async fold(ctx: KokyakuContext, limit = FOLD_CHUNK): Promise<number> {
    return transaction(ctx, async (em) => {
      const taken = await sql<{ customer_id: string; product_id: string; delta: number }>(
        em,
        `delete from kokyaku.customer_product_changes
         where tenant_id = $1 and id in (select id from kokyaku.customer_product_changes where tenant_id = $1 order by id limit $2)
         returning customer_id::text as customer_id, product_id::text as product_id, delta`,
        [ctx.tenantId, limit],
      );
      if (taken.length === 0) return 0;
      const net = new Map<string, Map<string, number>>();
      for (const t of taken) {
        const m = net.get(t.customer_id) ?? net.set(t.customer_id, new Map()).get(t.customer_id)!;
        m.set(t.product_id, (m.get(t.product_id) ?? 0) + t.delta);
      }
      const rows = await sql<{ customer_id: string; product_id: string; delta: number }>(
        em,
        `select customer_id::text as customer_id, product_id::text as product_id, 0 as delta from kokyaku.customer_products
         where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))
         union all
         select customer_id::text, product_id::text, delta from kokyaku.customer_product_changes
         where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))`,
        [ctx.tenantId, idsParam(net.keys())],
      );
      // Per customer: owned now, minus changes logged after the taken ones = owned "after".
      const after = new Map<string, Set<string>>();
      const later = new Map<string, Map<string, number>>();
      for (const r of rows) {
        if (r.delta === 0) (after.get(r.customer_id) ?? after.set(r.customer_id, new Set()).get(r.customer_id)!).add(r.product_id);
        else {
          const m = later.get(r.customer_id) ?? later.set(r.customer_id, new Map()).get(r.customer_id)!;
          m.set(r.product_id, (m.get(r.product_id) ?? 0) + r.delta);
        }
      }
      // Pair deltas are added up in memory and written whenever PAIR_FLUSH of them gather: a
      // customer who owns hundreds of products gives tens of thousands of pairs, and a backlog of
      // a whole history must not be held at once.
      const customerPairs = new Map<string, number>();
      const inc = (a: string, b: string, by: number) => customerPairs.set(pairKey(a, b), (customerPairs.get(pairKey(a, b)) ?? 0) + by);
      const flush = async () => {
        const deltas = new Map<string, { baskets: number; customers: number }>();
        for (const [key, n] of customerPairs) if (n !== 0) deltas.set(key, { baskets: 0, customers: n });
        customerPairs.clear();
        await this.addPairs({ ...ctx, em }, deltas, new Set());
      };
      for (const [customerId, changes] of net) {
        const owned = new Set(after.get(customerId) ?? []);
        for (const [productId, d] of later.get(customerId) ?? []) {
          if (d > 0) owned.delete(productId);
          else if (d < 0) owned.add(productId);
        }
        const plus = new Set([...changes].filter(([, d]) => d > 0).map(([p]) => p));
        const minus = new Set([...changes].filter(([, d]) => d < 0).map(([p]) => p));
        const before = new Set([...owned].filter((p) => !plus.has(p)));
        for (const p of minus) before.add(p);
        // Each new product pairs with everything owned after; each lost one with everything owned
        // before (a pair of two new, or two lost, products counted once).
        const count = (changed: Set<string>, set: Set<string>, by: number) => {
          for (const a of changed) {
            for (const b of set) {
              if (a === b || (changed.has(b) && compareIds(b, a) < 0)) continue;
              inc(a, b, by);
              inc(b, a, by);
            }
          }
        };
        // A customer who owns more than OWNER_PAIRS products adds no customer pairs: crossing the
        // line takes back (or brings in) all of theirs at once, as a rebuild would count them.
        const within = (set: Set<string>) => set.size <= OWNER_PAIRS;
        if (within(before) && within(owned)) {
          count(plus, owned, 1);
          count(minus, before, -1);
        } else if (within(before)) {
          count(before, before, -1);
        } else if (within(owned)) {
          count(owned, owned, 1);
        }
        if (customerPairs.size >= PAIR_FLUSH) await flush();
      }
      await flush();
      return taken.length;
    });
  }

  /**
   * Brings the customer-level pair counts and every stale neighbour list of the tenant up to
   * date. Scheduled every minute by `scheduleRefresh`; reads of a product recompute its own
   * stale lists anyway. Returns the number of lists recomputed.
   */
  async catchUp(ctx: KokyakuContext): Promise<number> {
    while ((await this.fold(ctx)) > 0);
    const ids = await sql<{ id: string }>(ctx.em, `select product_id::text as id from kokyaku.product_neighbours_stale where tenant_id = $1`, [ctx.tenantId]);
    for (let i = 0; i < ids.length; i += 200)
      await this.freshen(
        ctx,
        ids.slice(i, i + 200).map((r) => r.id),
      );
    return ids.length;
  }

  /**
   * Recomputes the lists of those of `productIds` that recorded orders have marked stale, in one
   * transaction: a concurrent reader of the same product waits for it and then reads the new
   * lists; products no longer marked (another reader took them) are skipped.
   */
  async freshen(ctx: KokyakuContext, productIds: readonly string[]): Promise<void> {
    if (productIds.length === 0) return;
    const ids = idsParam(productIds);
    await transaction(ctx, async (em) => {
      const taken = await sql<{ id: string }>(
        em,
        `delete from kokyaku.product_neighbours_stale where tenant_id = $1 and product_id = any(kokyaku.json_bigints($2::jsonb))
         returning product_id::text as id`,
        [ctx.tenantId, ids],
      );
      if (taken.length === 0) return;
      const takenIds = idsParam(taken.map((t) => t.id).sort(compareIds));
      const pairs = await sql<{ a: string; b: string; baskets: number; customers: number }>(
        em,
        `select product_a::text as a, product_b::text as b, baskets, customers from kokyaku.product_pairs
         where tenant_id = $2 and product_a = any(kokyaku.json_bigints($1::jsonb)) and (baskets > 0 or customers > 0)`,
        [takenIds, ctx.tenantId],
      );
      const alike = await sql<{ a: string; b: string }>(
        em,
        `select a.id::text as a, b.id::text as b
         from kokyaku.products a
         cross join lateral (
           select b.id from kokyaku.products b
           left join kokyaku.product_stats bs on bs.tenant_id = b.tenant_id and bs.product_id = b.id
           where b.tenant_id = $1 and b.id <> a.id and (b.categories && a.categories or b.tags && a.tags)
           order by coalesce(bs.customers, 0) desc, b.id
           limit ${ALIKE_CANDIDATES}
         ) b
         where a.tenant_id = $1 and a.id = any(kokyaku.json_bigints($2::jsonb))`,
        [ctx.tenantId, takenIds],
      );
      const facts = await this.productFacts(em, ctx.tenantId, [...taken.map((t) => t.id), ...pairs.map((p) => p.b), ...alike.map((p) => p.b)]);
      const rows: NeighbourRow[] = [];
      for (const { id } of taken) {
        const product = facts.get(id);
        if (!product) continue;
        const partners = pairs.filter((p) => p.a === id).map((p) => ({ product: facts.get(p.b)!, baskets: p.baskets, customers: p.customers }));
        rows.push(
          ...neighbourLists(
            product,
            partners,
            alike.filter((p) => p.a === id).map((p) => facts.get(p.b)!),
          ),
        );
      }
      await sql(em, `delete from kokyaku.product_neighbours where tenant_id = $1 and product_id = any(kokyaku.json_bigints($2::jsonb))`, [ctx.tenantId, takenIds]);
      await writeNeighbours(em, ctx.tenantId, rows);
    });
  }

  private async productFacts(em: KokyakuContext['em'], tenantId: string, ids: readonly string[]): Promise<Map<string, ProductFacts>> {
    const rows = await sql<{ id: string; categories: string[]; tags: string[]; price_minor: string | null; baskets: number; customers: number }>(
      em,
      `select p.id::text as id, p.categories, p.tags, p.price_minor, coalesce(s.baskets, 0) as baskets, coalesce(s.customers, 0) as customers
       from kokyaku.products p left join kokyaku.product_stats s on s.tenant_id = p.tenant_id and s.product_id = p.id
       where p.tenant_id = $2 and p.id = any(kokyaku.json_bigints($1::jsonb))`,
      [idsParam(ids), tenantId],
    );
    return new Map(
      rows.map((r) => [r.id, { id: r.id, features: featuresOf(r.categories, r.tags), priceMinor: Number(r.price_minor ?? 0), baskets: r.baskets, customers: r.customers }]),
    );
  }

  /**
   * A batch that only adds orders adds to what each customer bought: one upsert, and the orders
   * before are the orders after minus those added.
   */
  private async addCustomerProducts(
    ctx: KokyakuContext,
    combos: { customerId: string; productId: string }[],
    added: Map<string, { orders: number; quantity: number; first: number; last: number }>,
  ): Promise<{ before: Map<string, number>; afterMap: Map<string, number> }> {
    const rows = combos.map((c) => {
      const a = added.get(`${c.customerId}|${c.productId}`)!;
      return {
        customer_id: c.customerId,
        product_id: c.productId,
        orders: a.orders,
        quantity: a.quantity,
        first_at: new Date(a.first).toISOString(),
        last_at: new Date(a.last).toISOString(),
      };
    });
    const after = await sql<{ customer_id: string; product_id: string; orders: number }>(
      ctx.em,
      `insert into kokyaku.customer_products as t (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
       select v.customer_id, v.product_id, $1, v.orders, v.quantity, v.first_at, v.last_at
       from jsonb_to_recordset($2::jsonb) as v(customer_id bigint, product_id bigint, orders int, quantity int, first_at timestamptz, last_at timestamptz)
       on conflict (customer_id, product_id, tenant_id) do update
         set orders = t.orders + excluded.orders, quantity = t.quantity + excluded.quantity,
             first_at = least(t.first_at, excluded.first_at), last_at = greatest(t.last_at, excluded.last_at)
       returning customer_id::text as customer_id, product_id::text as product_id, orders`,
      [ctx.tenantId, JSON.stringify(rows)],
    );
    const afterMap = new Map(after.map((r) => [`${r.customer_id}|${r.product_id}`, r.orders]));
    const before = new Map([...afterMap].map(([key, orders]) => [key, orders - added.get(key)!.orders]));
    return { before, afterMap };
  }

  /** Any other batch (cancellations, re-lined or moved orders): recount the touched pairs from the orders. */
  private async recountCustomerProducts(
    ctx: KokyakuContext,
    combos: { customerId: string; productId: string }[],
  ): Promise<{ before: Map<string, number>; afterMap: Map<string, number> }> {
    const before = await this.customerProducts(ctx, combos);
    const keys = JSON.stringify(combos.map((c) => ({ customer_id: c.customerId, product_id: c.productId })));
    await sql(
      ctx.em,
      `delete from kokyaku.customer_products cp
       using jsonb_to_recordset($2::jsonb) as k(customer_id bigint, product_id bigint)
       where cp.customer_id = k.customer_id and cp.product_id = k.product_id and cp.tenant_id = $1`,
      [ctx.tenantId, keys],
    );
    const after = await sql<{ customer_id: string; product_id: string; orders: number }>(
      ctx.em,
      `insert into kokyaku.customer_products (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
       select o.customer_id, l.product_id, $1, count(distinct o.id), sum(l.quantity), min(o.placed_at), max(o.placed_at)
       from jsonb_to_recordset($2::jsonb) as k(customer_id bigint, product_id bigint)
       join kokyaku.orders o on o.customer_id = k.customer_id and o.tenant_id = $1 and o.status = 'PLACED'
       join kokyaku.order_lines l on l.tenant_id = o.tenant_id and l.order_id = o.id and l.product_id = k.product_id
       group by o.customer_id, l.product_id
       returning customer_id::text as customer_id, product_id::text as product_id, orders`,
      [ctx.tenantId, keys],
    );
    return { before, afterMap: new Map(after.map((r) => [`${r.customer_id}|${r.product_id}`, r.orders])) };
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
    const { catalog, index } = await readCatalog(ctx);
    await writeRepurchase(ctx, catalog, (await readOwners(ctx, index)).lists);
  }

  /**
   * Rebuilds every count and list of the tenant from its orders. The per-customer and per-day
   * counts are set-based SQL; the pair counts are counted in memory from each order's and each
   * customer's product list (rows of a dense matrix per pass), which is far cheaper than the
   * self-joins (a customer with n products makes n² pairs), and the lists are scored by the same
   * code that refreshes stale lists.
   */
  async rebuild(ctx: KokyakuContext): Promise<void> {
    await recountFromOrders(ctx);
    const { catalog, index } = await readCatalog(ctx);
    // Each order's distinct products and day; each customer's products.
    const { lists: baskets, days } = await readBaskets(ctx, index);
    await writeDailyCounts(ctx, baskets, days, catalog);
    const { lists: owners, flags: repeatCustomers } = await readOwners(ctx, index);
    const basketCounts = occurrences(baskets, catalog.length);
    const customerCounts = occurrences(owners, catalog.length);
    await writeColumns(
      ctx.em,
      `insert into kokyaku.product_stats (product_id, tenant_id, baskets, customers, repeat_customers)
       select v.id, $1, v.baskets, v.customers, v.repeat
       from unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::int[], string_to_array($4, ',')::int[], string_to_array($5, ',')::int[])
            as v(id, baskets, customers, repeat)`,
      ctx.tenantId,
      [catalog.map((p) => p.id), [...basketCounts], [...customerCounts], [...repeatCustomers]],
    );
    await sql(ctx.em, CYCLES, [ctx.tenantId]);
    const facts: ProductFacts[] = catalog.map((p, i) => ({
      id: p.id,
      features: featuresOf(p.categories, p.tags),
      priceMinor: Number(p.price_minor ?? 0),
      baskets: basketCounts[i]!,
      customers: customerCounts[i]!,
    }));
    const alikeOf = alikeCandidates(facts);
    // Pair counts, a band of matrix rows per pass.
    const P = catalog.length;
    const rowsPerPass = Math.max(1, Math.floor(PASS_CELLS / Math.max(P, 1)));
    const sampled = sampleBaskets(baskets, facts, index);
    for (let lo = 0; lo < P; lo += rowsPerPass) {
      await pairBand(ctx, { baskets, owners, sampled, facts, index, alikeOf }, lo, Math.min(P, lo + rowsPerPass));
    }
    await writeRepurchase(ctx, catalog, owners);
  }
}

/**
 * Each product's repurchase cycle: the median, over the customers who bought it in two orders or
 * more (at least two such customers), of their mean days between those orders (a day at least).
 * BUY_AGAIN and FOR_CUSTOMER's repeat part expect a customer who bought it once back after it.
 */
const CYCLES = `update kokyaku.product_stats s set cycle_days = c.days
  from (select cp.product_id,
               percentile_cont(0.5) within group (order by greatest(1, extract(epoch from cp.last_at - cp.first_at) / 86400 / (cp.orders - 1))) as days
        from kokyaku.customer_products cp where cp.tenant_id = $1 and cp.orders >= 2
        group by cp.product_id having count(*) >= 2) c
  where s.tenant_id = $1 and s.product_id = c.product_id`;

/** What a batch of order changes adds to and takes from each count, before anything is written. */
function tallyChanges(changes: readonly OrderChange[], tz: string) {
  const basketPairs = new Map<string, number>();
  const productBaskets = new Map<string, number>();
  const daily = new Map<string, { baskets: number; quantity: number }>();
  const combos = new Map<string, { customerId: string; productId: string }>();
  // Per customer and product, what the batch adds (used when it only adds orders).
  const added = new Map<string, { orders: number; quantity: number; first: number; last: number }>();
  const onlyAdds = changes.every((c) => c.before === null);
  const products = new Set<string>();
  for (const change of changes) {
    for (const [state, sign] of [
      [change.before, -1],
      [change.after, 1],
    ] as const) {
      if (!state) continue;
      const quantities = new Map<string, number>();
      for (const line of state.lines) quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
      addPairs(basketPairs, pairBasket([...quantities.keys()]), sign);
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
        if (onlyAdds) {
          const at = state.placedAt.getTime();
          const a = added.get(`${state.customerId}|${productId}`) ?? { orders: 0, quantity: 0, first: at, last: at };
          a.orders++;
          a.quantity += quantity;
          a.first = Math.min(a.first, at);
          a.last = Math.max(a.last, at);
          added.set(`${state.customerId}|${productId}`, a);
        }
      }
    }
  }
  return { basketPairs, productBaskets, daily, combos, added, onlyAdds, products };
}

async function writeDaily(ctx: KokyakuContext, daily: ReadonlyMap<string, { baskets: number; quantity: number }>): Promise<void> {
  const rows = [...daily]
    .filter(([, d]) => (d.baskets || d.quantity) !== 0)
    .map(([key, d]) => {
      const [productId, day] = key.split('|');
      return { product_id: productId, day, baskets: d.baskets, quantity: d.quantity };
    });
  if (rows.length === 0) return;
  await sql(
    ctx.em,
    `insert into kokyaku.product_daily as t (product_id, day, tenant_id, baskets, quantity)
     select v.product_id, v.day, $1, v.baskets, v.quantity from jsonb_to_recordset($2::jsonb) as v(product_id bigint, day date, baskets int, quantity int)
     on conflict (product_id, day, tenant_id) do update set baskets = t.baskets + excluded.baskets, quantity = t.quantity + excluded.quantity`,
    [ctx.tenantId, JSON.stringify(rows)],
  );
}

/** Per product, baskets, buyers and repeat buyers gained or lost; per customer, products they came to own or no longer own. */
function ownershipMoves(
  comboList: readonly { customerId: string; productId: string }[],
  before: ReadonlyMap<string, number>,
  afterMap: ReadonlyMap<string, number>,
  productBaskets: ReadonlyMap<string, number>,
) {
  const stats = new Map<string, { baskets: number; customers: number; repeat: number }>();
  const stat = (id: string) => {
    let s = stats.get(id);
    if (!s) stats.set(id, (s = { baskets: 0, customers: 0, repeat: 0 }));
    return s;
  };
  for (const [productId, n] of productBaskets) stat(productId).baskets += n;
  const gained = new Map<string, Set<string>>();
  const lost = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, customerId: string, productId: string) => {
    let set = map.get(customerId);
    if (!set) map.set(customerId, (set = new Set()));
    set.add(productId);
  };
  for (const { customerId, productId } of comboList) {
    const key = `${customerId}|${productId}`;
    const was = before.get(key) ?? 0;
    const now = afterMap.get(key) ?? 0;
    const s = stat(productId);
    if (was === 0 && now > 0) {
      s.customers++;
      add(gained, customerId, productId);
    }
    if (was > 0 && now === 0) {
      s.customers--;
      add(lost, customerId, productId);
    }
    s.repeat += Number(now >= 2) - Number(was >= 2);
  }
  return { stats, gained, lost };
}

async function writeStats(ctx: KokyakuContext, stats: ReadonlyMap<string, { baskets: number; customers: number; repeat: number }>): Promise<void> {
  const rows = [...stats].filter(([, s]) => s.baskets || s.customers || s.repeat).map(([id, s]) => ({ product_id: id, ...s }));
  if (rows.length === 0) return;
  await sql(
    ctx.em,
    `insert into kokyaku.product_stats as t (product_id, tenant_id, baskets, customers, repeat_customers)
     select v.product_id, $1, v.baskets, v.customers, v.repeat from jsonb_to_recordset($2::jsonb) as v(product_id bigint, baskets int, customers int, repeat int)
     on conflict (product_id, tenant_id) do update
       set baskets = t.baskets + excluded.baskets, customers = t.customers + excluded.customers,
           repeat_customers = t.repeat_customers + excluded.repeat_customers`,
    [ctx.tenantId, JSON.stringify(rows)],
  );
}

/** Customer-level pairs change with ownership: logged here, folded by `catchUp`. */
async function logOwnership(ctx: KokyakuContext, gained: ReadonlyMap<string, Set<string>>, lost: ReadonlyMap<string, Set<string>>): Promise<void> {
  const ownership: { customer_id: string; product_id: string; delta: number }[] = [];
  for (const [delta, map] of [
    [1, gained],
    [-1, lost],
  ] as const) {
    for (const [customerId, productIds] of map) for (const productId of productIds) ownership.push({ customer_id: customerId, product_id: productId, delta });
  }
  if (ownership.length === 0) return;
  await sql(
    ctx.em,
    `insert into kokyaku.customer_product_changes (tenant_id, customer_id, product_id, delta)
     select $1, v.customer_id, v.product_id, v.delta from jsonb_to_recordset($2::jsonb) as v(customer_id bigint, product_id bigint, delta smallint)`,
    [ctx.tenantId, JSON.stringify(ownership)],
  );
}

interface CatalogRow {
  id: string;
  categories: string[];
  tags: string[];
  price_minor: string | null;
}

/**
 * Empties the derived tables the rebuild writes anew, and brings what each customer bought
 * (`customer_products`) to the orders: the fresh aggregate is compared with the table (a merge of
 * two sorted streams) and only rows that differ are written, since ingestion keeps the table
 * current and rewriting millions of equal rows is most of a rebuild's time.
 */
async function recountFromOrders(ctx: KokyakuContext): Promise<void> {
  for (const table of ['customer_product_changes', 'product_neighbours_stale', 'product_neighbours', 'product_stats']) {
    await sql(ctx.em, `delete from kokyaku.${table} where tenant_id = $1`, [ctx.tenantId]);
  }
  await sql(
    ctx.em,
    `with fresh as (
       select o.customer_id, l.product_id, count(distinct o.id) as orders, sum(l.quantity) as quantity, min(o.placed_at) as first_at, max(o.placed_at) as last_at
       from kokyaku.orders o join kokyaku.order_lines l on l.tenant_id = o.tenant_id and l.order_id = o.id
       where o.tenant_id = $1 and o.status = 'PLACED'
       group by o.customer_id, l.product_id
     ),
     changed as (
       select coalesce(f.customer_id, c.customer_id) as customer_id, coalesce(f.product_id, c.product_id) as product_id,
              f.orders, f.quantity, f.first_at, f.last_at
       from fresh f
       full join (select customer_id, product_id, orders, quantity, first_at, last_at from kokyaku.customer_products where tenant_id = $1) c
         on c.customer_id = f.customer_id and c.product_id = f.product_id
       where (f.orders, f.quantity, f.first_at, f.last_at) is distinct from (c.orders, c.quantity, c.first_at, c.last_at)
     ),
     gone as (
       delete from kokyaku.customer_products cp using changed x
       where x.orders is null and cp.customer_id = x.customer_id and cp.product_id = x.product_id and cp.tenant_id = $1
     )
     insert into kokyaku.customer_products as t (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
     select customer_id, product_id, $1, orders, quantity, first_at, last_at from changed where orders is not null
     on conflict (customer_id, product_id, tenant_id) do update
       set orders = excluded.orders, quantity = excluded.quantity, first_at = excluded.first_at, last_at = excluded.last_at`,
    [ctx.tenantId],
  );
}

async function readCatalog(ctx: KokyakuContext): Promise<{ catalog: CatalogRow[]; index: Map<string, number> }> {
  const catalog = await sql<CatalogRow>(ctx.em, `select id::text as id, categories, tags, price_minor from kokyaku.products where tenant_id = $1`, [ctx.tenantId]);
  catalog.sort((x, y) => compareIds(x.id, y.id));
  return { catalog, index: new Map(catalog.map((p, i) => [p.id, i])) };
}

/** Each placed order's day (days since 1970-01-01 in the shop's time zone) and lines (`product*quantity`), for a range of order ids ($2..$3). */
const BASKET_LISTS = `select string_agg(x.day || ':' || x.items, ';') as lists from (
  select (o.placed_at at time zone $4::text)::date - date '1970-01-01' as day, string_agg(l.product_id || '*' || l.quantity, ',') as items
  from kokyaku.orders o join kokyaku.order_lines l on l.tenant_id = o.tenant_id and l.order_id = o.id
  where o.tenant_id = $1 and o.status = 'PLACED' and o.id between $2::bigint and $3::bigint
  group by o.id, o.tenant_id) x`;

/** Each customer's products, `+` on those bought in two orders or more, for a range of customer ids ($2..$3). */
const OWNER_LISTS = `select string_agg(ids, ';') as lists from (
  select string_agg(cp.product_id::text || case when cp.orders >= 2 then '+' else '' end, ',') as ids
  from kokyaku.customer_products cp
  where cp.tenant_id = $1 and cp.customer_id between $2::bigint and $3::bigint
  group by cp.customer_id) x`;

/**
 * Every placed order's distinct products (each weighted by its quantity in the order) and day,
 * read a range of order ids at a time.
 */
async function readBaskets(ctx: KokyakuContext, index: ReadonlyMap<string, number>): Promise<{ lists: Lists; days: Int32Array }> {
  const lists = new Lists();
  const days: number[] = [];
  const orders = `select min(id)::text as lo, max(id)::text as hi from kokyaku.orders where tenant_id = $1`;
  await eachList(ctx, BASKET_LISTS, orders, [ctx.shop.timeZone], (text) => {
    const colon = text.indexOf(':');
    const list: number[] = [];
    const quantities: number[] = [];
    for (const item of text.slice(colon + 1).split(',')) {
      const star = item.indexOf('*');
      const i = index.get(item.slice(0, star));
      if (i === undefined) continue;
      // A product on two lines of one order is one basket.
      const at = list.indexOf(i);
      if (at < 0) {
        list.push(i);
        quantities.push(Number(item.slice(star + 1)));
      } else quantities[at]! += Number(item.slice(star + 1));
    }
    lists.push(list, quantities);
    days.push(Number(text.slice(0, colon)));
  });
  return { lists, days: Int32Array.from(days) };
}

/**
 * `product_daily` from the baskets: per product and day, baskets and quantity, counted in a dense
 * product x day matrix, a band of products per pass (PASS_CELLS cells), stored by `storeBand`.
 */
async function writeDailyCounts(ctx: KokyakuContext, baskets: Lists, days: Int32Array, catalog: readonly CatalogRow[]): Promise<void> {
  if (days.length === 0) {
    await sql(ctx.em, `delete from kokyaku.product_daily where tenant_id = $1`, [ctx.tenantId]);
    return;
  }
  let first = days[0]!;
  let last = days[0]!;
  for (const day of days) {
    first = Math.min(first, day);
    last = Math.max(last, day);
  }
  const span = last - first + 1;
  const P = catalog.length;
  const productsPerPass = Math.max(1, Math.floor(PASS_CELLS / span));
  for (let lo = 0; lo < P; lo += productsPerPass) {
    const hi = Math.min(P, lo + productsPerPass);
    const count = new Int32Array((hi - lo) * span);
    const quantity = new Int32Array((hi - lo) * span);
    for (let l = 0; l < baskets.count; l++) {
      const day = days[l]! - first;
      for (let k = baskets.offsets[l]!; k < baskets.offsets[l + 1]!; k++) {
        const i = baskets.values[k]!;
        if (i < lo || i >= hi) continue;
        const cell = (i - lo) * span + day;
        count[cell]!++;
        quantity[cell]! += baskets.weights[k]!;
      }
    }
    await storeBand(
      ctx,
      DAILY_TABLE,
      catalog,
      lo,
      hi,
      span,
      { columnOf: (text) => (Number(text) >= first && Number(text) <= last ? Number(text) - first : -1), keyOf: (column) => first + column },
      [count, quantity],
    );
  }
}

/** Each customer's products, weighted 1 where bought in two orders or more; `flags` counts those per product. */
async function readOwners(ctx: KokyakuContext, index: ReadonlyMap<string, number>): Promise<{ lists: Lists; flags: Int32Array }> {
  const lists = new Lists();
  const flags = new Int32Array(index.size);
  const customers = `select min(customer_id)::text as lo, max(customer_id)::text as hi from kokyaku.customer_products where tenant_id = $1`;
  await eachList(ctx, OWNER_LISTS, customers, [], (text) => {
    const list: number[] = [];
    const weights: number[] = [];
    for (const item of text.split(',')) {
      const repeat = item.endsWith('+');
      const i = index.get(repeat ? item.slice(0, -1) : item);
      if (i === undefined) continue;
      list.push(i);
      weights.push(repeat ? 1 : 0);
      if (repeat) flags[i]!++;
    }
    lists.push(list, weights);
  });
  return { lists, flags };
}

/**
 * The repurchase rates (see `measureRepurchase`) from each customer's products: a customer
 * bought twice or more in a category when they own two of its products or one bought in two
 * orders, and bought an item again when one of them is marked.
 */
async function writeRepurchase(ctx: KokyakuContext, catalog: readonly CatalogRow[], owners: Lists): Promise<void> {
  const names = [...new Set(catalog.map((p) => p.categories[0]).filter((c): c is string => c != null))];
  const categoryOf = Int32Array.from(catalog, (p) => (p.categories[0] == null ? -1 : names.indexOf(p.categories[0])));
  // Per category, then the shop as a whole (the last slot): customers who bought twice or more, and who bought again.
  const twice = new Int32Array(names.length + 1);
  const again = new Int32Array(names.length + 1);
  const seen = new Int32Array(names.length + 1);
  const bought = new Int32Array(names.length + 1);
  const rebought = new Uint8Array(names.length + 1);
  const touched: number[] = [];
  const shop = names.length;
  for (let l = 0; l < owners.count; l++) {
    touched.length = 0;
    for (let k = owners.offsets[l]!; k < owners.offsets[l + 1]!; k++) {
      const category = categoryOf[owners.values[k]!]!;
      for (const slot of category < 0 ? [shop] : [category, shop]) {
        if (seen[slot] !== l + 1) {
          seen[slot] = l + 1;
          bought[slot] = 0;
          rebought[slot] = 0;
          touched.push(slot);
        }
        bought[slot]!++;
        if (owners.weights[k]) rebought[slot] = 1;
      }
    }
    for (const slot of touched) {
      if (bought[slot]! >= 2 || rebought[slot]) twice[slot]!++;
      if (rebought[slot]) again[slot]!++;
    }
  }
  const rate = (slot: number) => (twice[slot] ? again[slot]! / twice[slot]! : 0);
  const byCategory: Record<string, number> = {};
  for (const [slot, name] of names.entries()) if (seen[slot]) byCategory[name] = rate(slot);
  await sql(
    ctx.em,
    `insert into kokyaku.recommendation_state (tenant_id, repurchase, computed_at) values ($1, $2::jsonb, now())
     on conflict (tenant_id) do update set repurchase = excluded.repurchase, computed_at = excluded.computed_at`,
    [ctx.tenantId, JSON.stringify({ shop: rate(shop), byCategory })],
  );
}

/**
 * Runs `query` (taking $2..$3, then `params`) over the tenant's id range (`bounds`) a chunk at a
 * time; `each` gets every `;`-separated list.
 */
async function eachList(ctx: KokyakuContext, query: string, bounds: string, params: readonly unknown[], each: (text: string) => void): Promise<void> {
  const [range] = await sql<{ lo: string | null; hi: string | null }>(ctx.em, bounds, [ctx.tenantId]);
  if (range?.lo == null) return;
  for (let lo = BigInt(range.lo); lo <= BigInt(range.hi!); lo += BigInt(READ_CHUNK)) {
    const [row] = await sql<{ lists: string | null }>(ctx.em, query, [ctx.tenantId, lo.toString(), (lo + BigInt(READ_CHUNK - 1)).toString(), ...params]);
    if (!row?.lists) continue;
    for (const text of row.lists.split(';')) each(text);
  }
}

/** A table of two counts per product and key (a day, a partner product), as `storeBand` reads and writes it. */
interface BandTable {
  /** The tenant's rows whose product id is in $2..$3, as `product,key,x,y` joined by `;`. */
  read: string;
  /** Writes rows given as columns $2..$5 (product, key, x, y). */
  upsert: string;
  /** Deletes rows given as columns $2..$3 (product, key). */
  remove: string;
}

const DAILY_TABLE: BandTable = {
  read: `select string_agg(product_id || ',' || (day - date '1970-01-01') || ',' || baskets || ',' || quantity, ';') as rows
         from kokyaku.product_daily where tenant_id = $1 and product_id between $2::bigint and $3::bigint`,
  upsert: `insert into kokyaku.product_daily as t (product_id, day, tenant_id, baskets, quantity)
           select v.product_id, date '1970-01-01' + v.day, $1, v.baskets, v.quantity
           from unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::int[], string_to_array($4, ',')::int[], string_to_array($5, ',')::int[])
                as v(product_id, day, baskets, quantity)
           on conflict (product_id, day, tenant_id) do update set baskets = excluded.baskets, quantity = excluded.quantity`,
  remove: `delete from kokyaku.product_daily t
           using unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::int[]) as v(product_id, day)
           where t.product_id = v.product_id and t.day = date '1970-01-01' + v.day and t.tenant_id = $1`,
};

const PAIR_TABLE: BandTable = {
  read: `select string_agg(product_a || ',' || product_b || ',' || baskets || ',' || customers, ';') as rows
         from kokyaku.product_pairs where tenant_id = $1 and product_a between $2::bigint and $3::bigint`,
  upsert: `insert into kokyaku.product_pairs as t (product_a, product_b, tenant_id, baskets, customers)
           select v.a, v.b, $1, v.n, v.m
           from unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::bigint[], string_to_array($4, ',')::int[], string_to_array($5, ',')::int[])
                as v(a, b, n, m)
           on conflict (product_a, product_b, tenant_id) do update set baskets = excluded.baskets, customers = excluded.customers`,
  remove: `delete from kokyaku.product_pairs t
           using unnest(string_to_array($2, ',')::bigint[], string_to_array($3, ',')::bigint[]) as v(a, b)
           where t.product_a = v.a and t.product_b = v.b and t.tenant_id = $1`,
};

/** Stored rows read per statement by `storeBand`. */
const BAND_READ_ROWS = 200_000;
const MIN_ID = '-9223372036854775808';
const MAX_ID = '9223372036854775807';

/**
 * Stores the counts of the catalog's products lo..hi (`fresh`: two matrices of `width` cells per
 * product) over what the table holds: reads the stored rows of those products, then writes only
 * the cells that differ and deletes the stored rows whose cell is now empty (or whose product or
 * key no longer exists). Ingestion keeps these tables current, so a rebuild over them writes next
 * to nothing; an empty table gets every row. The first band also reads the ids below the catalog's
 * and the last those above, so that no stored row of the tenant is missed.
 */
async function storeBand(
  ctx: KokyakuContext,
  table: BandTable,
  catalog: readonly { id: string }[],
  lo: number,
  hi: number,
  width: number,
  key: { columnOf: (stored: string) => number; keyOf: (column: number) => string | number },
  fresh: [Int32Array, Int32Array],
): Promise<void> {
  const [x, y] = fresh;
  const same = new Uint8Array((hi - lo) * width);
  const removed: (string | number)[][] = [[], []];
  const step = Math.max(1, Math.floor(BAND_READ_ROWS / width));
  for (let from = lo; from < hi; from += step) {
    const to = Math.min(hi, from + step);
    const rowIndex = new Map(catalog.slice(from, to).map((p, k) => [p.id, from + k]));
    const first = from === 0 ? MIN_ID : catalog[from]!.id;
    const last = to === catalog.length ? MAX_ID : (BigInt(catalog[to]!.id) - 1n).toString();
    const [row] = await sql<{ rows: string | null }>(ctx.em, table.read, [ctx.tenantId, first, last]);
    for (const stored of row?.rows?.split(';') ?? []) {
      const [product, storedKey, storedX, storedY] = stored.split(',') as [string, string, string, string];
      const r = rowIndex.get(product);
      const column = r === undefined ? -1 : key.columnOf(storedKey);
      const cell = r === undefined || column < 0 ? -1 : (r - lo) * width + column;
      if (cell >= 0 && x[cell] === Number(storedX) && y[cell] === Number(storedY)) same[cell] = 1;
      else if (cell < 0 || (x[cell] === 0 && y[cell] === 0)) {
        removed[0]!.push(product);
        removed[1]!.push(storedKey);
      }
    }
  }
  await writeColumns(ctx.em, table.remove, ctx.tenantId, removed);
  const written: (string | number)[][] = [[], [], [], []];
  for (let cell = 0; cell < same.length; cell++) {
    if (same[cell] || (x[cell] === 0 && y[cell] === 0)) continue;
    written[0]!.push(catalog[lo + Math.floor(cell / width)]!.id);
    written[1]!.push(key.keyOf(cell % width));
    written[2]!.push(x[cell]!);
    written[3]!.push(y[cell]!);
  }
  await writeColumns(ctx.em, table.upsert, ctx.tenantId, written);
}

/** How many lists each product is in. */
function occurrences(lists: Lists, products: number): Int32Array {
  const counts = new Int32Array(products);
  for (let k = 0; k < lists.offsets[lists.count]!; k++) counts[lists.values[k]!]!++;
  return counts;
}

/** SIMILAR candidates by attributes: per category or tag, its products, most bought first. */
function alikeCandidates(facts: readonly ProductFacts[]): (i: number) => ProductFacts[] {
  const byFeature = new Map<string, number[]>();
  for (const [i, f] of facts.entries()) {
    for (const feature of f.features) {
      let list = byFeature.get(feature);
      if (!list) byFeature.set(feature, (list = []));
      list.push(i);
    }
  }
  for (const list of byFeature.values()) list.sort((x, y) => alikeOrder(facts[x]!, facts[y]!));
  return (i) => {
    const seen = new Set<number>();
    for (const feature of facts[i]!.features) for (const j of byFeature.get(feature)!) if (j !== i) seen.add(j);
    return [...seen]
      .sort((x, y) => alikeOrder(facts[x]!, facts[y]!))
      .slice(0, ALIKE_CANDIDATES)
      .map((j) => facts[j]!);
  };
}

/** Baskets of more than PAIR_BASKET products pair only their sample, as the upkeep does. */
function sampleBaskets(baskets: Lists, facts: readonly ProductFacts[], index: ReadonlyMap<string, number>): Map<number, Int32Array> {
  const sampled = new Map<number, Int32Array>();
  for (let l = 0; l < baskets.count; l++) {
    const start = baskets.offsets[l]!;
    const end = baskets.offsets[l + 1]!;
    if (end - start <= PAIR_BASKET) continue;
    const ids = [...baskets.values.subarray(start, end)].map((i) => facts[i]!.id);
    sampled.set(l, Int32Array.from(pairBasket(ids).map((id) => index.get(id)!)));
  }
  return sampled;
}

/** Adds, for the rows lo..hi of the pair matrix, how often each pair is in one list. */
function countPairs(lists: Lists, into: Int32Array, P: number, lo: number, hi: number, samples?: Map<number, Int32Array>, longest = Number.POSITIVE_INFINITY): void {
  const { offsets } = lists;
  for (let l = 0; l < lists.count; l++) {
    const sample = samples?.get(l);
    const values = sample ?? lists.values;
    const start = sample ? 0 : offsets[l]!;
    const end = sample ? sample.length : offsets[l + 1]!;
    if (end - start < 2 || end - start > longest) continue;
    for (let x = start; x < end; x++) {
      const a = values[x]!;
      if (a < lo || a >= hi) continue;
      const row = (a - lo) * P;
      for (let y = start; y < end; y++) if (y !== x) into[row + values[y]!]!++;
    }
  }
}

/** One band of the pair matrix (products lo..hi): its pairs and the neighbour lists of its products, written. */
async function pairBand(
  ctx: KokyakuContext,
  m: {
    baskets: Lists;
    owners: Lists;
    sampled: Map<number, Int32Array>;
    facts: readonly ProductFacts[];
    index: ReadonlyMap<string, number>;
    alikeOf: (i: number) => ProductFacts[];
  },
  lo: number,
  hi: number,
): Promise<void> {
  const P = m.facts.length;
  const together = new Int32Array((hi - lo) * P);
  const also = new Int32Array((hi - lo) * P);
  countPairs(m.baskets, together, P, lo, hi, m.sampled);
  countPairs(m.owners, also, P, lo, hi, undefined, OWNER_PAIRS);
  const neighbourRows: NeighbourRow[] = [];
  for (let a = lo; a < hi; a++) {
    const partners: Partner[] = [];
    for (let b = 0, cell = (a - lo) * P; b < P; b++, cell++) {
      const n = together[cell]!;
      const k = also[cell]!;
      if (n === 0 && k === 0) continue;
      partners.push({ product: m.facts[b]!, baskets: n, customers: k });
    }
    neighbourRows.push(...neighbourLists(m.facts[a]!, partners, m.alikeOf(a)));
  }
  await storeBand(ctx, PAIR_TABLE, m.facts, lo, hi, P, { columnOf: (id) => m.index.get(id) ?? -1, keyOf: (column) => m.facts[column]!.id }, [together, also]);
  await writeNeighbours(ctx.em, ctx.tenantId, neighbourRows);
}
