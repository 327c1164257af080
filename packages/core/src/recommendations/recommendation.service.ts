import type { Bus } from '../database/bus.js';
import type { OrderChange } from '../module/module.js';
import { segmentFrom } from '../segments/compiler.js';
import type { ProductRecord, ProductService } from '../catalog/product.service.js';
import type { RecommendationsConfig } from './config.js';
import type { KokyakuContext } from '../shared/context.js';
import type { SegmentService } from '../segments/segment.service.js';
import { addDays, todayIn } from '../shared/dates.js';
import { KokyakuError } from '../shared/errors.js';
import { prepared, sql, sqlOne, transaction } from '../shared/sql.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { type Evaluation, type EvaluationRow, evaluateRecommendations } from './evaluation.js';
import type { RecommendationStore } from './recommendation.store.js';
import { repeatChance } from './repeat.js';

export const STRATEGIES = ['FOR_CUSTOMER', 'BUY_AGAIN', 'BOUGHT_TOGETHER', 'SIMILAR', 'POPULAR', 'TRENDING'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface RecommendationArgs {
  customerExternalId?: string | null;
  productExternalId?: string | null;
  /** Default: BOUGHT_TOGETHER with a product, FOR_CUSTOMER with a customer, else POPULAR. */
  strategy?: Strategy | null;
  /** 1-100 (default 10). */
  first?: number | null;
  /** Only products in this category. */
  category?: string | null;
  /**
   * Leave out what the customer bought. Default: decided per category from how often the shop's
   * customers buy the same item again (`recommendations.repurchaseThreshold`).
   */
  excludePurchased?: boolean | null;
  /** Keep out-of-stock products (default false). */
  includeOutOfStock?: boolean | null;
  /** Recommend only to customers a segment query selects; others get an empty list. */
  segment?: string | null;
  /**
   * Days of the POPULAR window (default 30), of each TRENDING window (default 14), and how many
   * days ahead BUY_AGAIN looks for purchases coming due (default 7).
   */
  windowDays?: number | null;
  /** The moment to recommend as of (default now): evaluation replays the past with it. */
  now?: Date;
  /**
   * The moment the shop-wide figures (popular and trending lists) are read as of (default `now`):
   * evaluation reads them over its whole training history, as it builds the neighbour lists.
   */
  figuresAsOf?: Date;
  /** FOR_CUSTOMER: the popularity weight for this request (default: the shop's, see `blend`). */
  popularityWeight?: number | null;
  /** FOR_CUSTOMER: the repeat weight for this request (default: the shop's, see `blend`). */
  repeatWeight?: number | null;
  /** FOR_CUSTOMER: whether the customer's own rhythms hold items back (default: the shop's, see `Blend`). */
  cycles?: boolean | null;
}

/**
 * FOR_CUSTOMER's score of an item: `repeat * F + (1 - repeat) * N`, where N is its neighbours' vote
 * (what the customer bought, viewed and carted points at, 0-1) and F how often the customer buys
 * it, estimated with the shop's basket share of it as the prior:
 * `F = (n + a * share) / (orders + a)` (scaled to 0-1 over the candidates), n the customer's orders
 * with it (each weighing less with age and, after one purchase, until the product's cycle comes
 * round) and `a = popularity / (1 - popularity)` the prior's strength in orders. Popularity 0 ranks
 * by the customer's own frequency (P-TopFreq, popular items after); 1 by popularity alone
 * (G-TopFreq); in between, a customer's habits outweigh popularity the more orders show them.
 */
export interface Blend {
  popularity: number;
  repeat: number;
  /**
   * Whether the customer's own rhythms hold items back until they come round (left out in the
   * first half of the cycle, weighed by how far it has come in the second): right where customers
   * replenish on a cycle, wrong where they buy the same staples at any time.
   */
  cycles: boolean;
}

export interface Recommendation {
  product: ProductRecord;
  score: number;
  reason: string;
  /** The strategy that produced this item: the one asked for, or POPULAR for items filling a short list. */
  strategy: Strategy;
  /**
   * BUY_AGAIN, and FOR_CUSTOMER items the customer bought before: the day (YYYY-MM-DD, shop time)
   * they are expected to buy it again, from their own interval between purchases of it or, after
   * one purchase, the product's repurchase cycle among all its buyers. Absent when neither is known.
   */
  dueOn?: string;
}

interface Candidate {
  productId: string;
  score: number;
  reason: string;
  /** FOR_CUSTOMER: the reason names this product ("Because you bought <its name>"), read with the list's products. */
  because?: { seed: string; verb: string };
  /** Set on the popular items that fill up a short list. */
  strategy?: Strategy;
  /**
   * FOR_CUSTOMER, blended per request (see `Blend`): the customer's orders with it (weighted by
   * age and cycle), its neighbours' vote, and its share of the shop's baskets (also on POPULAR items).
   */
  repeat?: number;
  explore?: number;
  popularity?: number;
  /**
   * FOR_CUSTOMER: what the customer buys in a rhythm of their own weighs as much as its cycle has
   * come round, and is left out in the first half of it (`stocked`), with `Blend.cycles` (repeat.ts).
   */
  damp?: number;
  stocked?: boolean;
  dueOn?: string;
}

interface NeighbourRow {
  product_id: string;
  neighbour_id: string;
  score: number;
  support: number;
}

const WEIGHTS = { purchase: 1, added_to_cart: 0.6, product_viewed: 0.3 } as const;

/** A customer asking for recommendations: what they bought and, for FOR_CUSTOMER, what they did. */
interface Shopper {
  id: string;
  purchased: Set<string>;
  /** Their placed orders (the customer facts ingestion keeps current). */
  orders: number;
  /**
   * FOR_CUSTOMER and BUY_AGAIN: their most often bought products (then the latest) and recent views
   * and carts, the buyers of each product, and the products' ALSO_BOUGHT lists. A purchase has the
   * first time too and the product's repurchase cycle (days, when measured).
   */
  seeds: { product_id: string; kind: keyof typeof WEIGHTS; at: string; times: number; first?: string; cycle?: number | null }[];
  seedBuyers: Record<string, number>;
  neighbours: { product_id: string; neighbour_id: string; score: number }[];
  stale: string[];
}

/**
 * Everything a request reads about its customer, in one statement (`$3`, the moment asked as of,
 * is null unless the strategy is FOR_CUSTOMER or BUY_AGAIN: then the seeds and their lists come
 * too). Seeds: the 50 products bought in most orders (then the latest) and the 50 products most
 * recently viewed or added to the cart in the 90 days before `$3`, in that order.
 */
export const SHOPPER = prepared(`
  with c as (select id from kokyaku.customers where tenant_id = $1 and external_id = $2),
  purchases as (select cp.product_id, cp.first_at, cp.last_at, cp.orders from kokyaku.customer_products cp join c on cp.tenant_id = $1 and cp.customer_id = c.id),
  seeds as (
    (select p.product_id, 'purchase' as kind, p.last_at as at, p.orders as times, 1 as part, p.first_at as first, s.cycle_days as cycle
     from purchases p left join kokyaku.product_stats s on s.tenant_id = $1 and s.product_id = p.product_id
     where $3::timestamptz is not null order by p.orders desc, p.last_at desc, p.product_id limit 50)
    union all
    (select e.product_id, e.type, max(e.occurred_at), count(*)::int, 2, null, null
     from kokyaku.events e join c on e.customer_id = c.id
     where $3::timestamptz is not null and e.tenant_id = $1 and e.product_id is not null and e.type in ('product_viewed', 'added_to_cart')
       and e.occurred_at > $3::timestamptz - interval '90 days' and e.occurred_at <= $3::timestamptz
     group by e.product_id, e.type order by max(e.occurred_at) desc limit 50)
  ),
  numbered as (select *, row_number() over () as n from seeds)
  select c.id::text as id,
    (select coalesce(json_agg(product_id::text), '[]') from purchases) as purchased,
    (select f.orders_count from kokyaku.customer_facts f where f.tenant_id = $1 and f.customer_id = c.id) as orders,
    (select coalesce(json_agg(json_build_object('product_id', product_id::text, 'kind', kind, 'at', at, 'times', times, 'first', first, 'cycle', cycle) order by part, n), '[]') from numbered) as seeds,
    (select coalesce(json_object_agg(s.product_id::text, s.customers), '{}') from kokyaku.product_stats s where s.tenant_id = $1 and s.product_id in (select product_id from seeds)) as seed_buyers,
    -- Up to 2,500 rows: as "product,neighbour,score;..." text, which costs half what JSON objects do to build and read.
    (select string_agg(concat_ws(',', n.product_id, n.neighbour_id, n.score), ';' order by n.product_id, n.rank)
     from kokyaku.product_neighbours n where n.tenant_id = $1 and n.kind = 'ALSO_BOUGHT' and n.product_id in (select product_id from seeds)) as neighbours,
    (select coalesce(json_agg(st.product_id::text), '[]') from kokyaku.product_neighbours_stale st where st.tenant_id = $1 and st.product_id in (select product_id from seeds)) as stale
  from c`);
/**
 * The candidates in the order of one blend (FOR_CUSTOMER; the other strategies keep theirs), then
 * the popular items filling a short list.
 */
function ranked(candidates: readonly Candidate[], fill: readonly Candidate[], strategy: Strategy, b: Blend, orders: number): Candidate[] {
  let list = candidates;
  if (strategy === 'FOR_CUSTOMER') {
    const a = b.popularity / (1 - b.popularity);
    const frequency = (c: Candidate) => (Number.isFinite(a) ? ((c.repeat ?? 0) + a * (c.popularity ?? 0)) / (orders + a) : (c.popularity ?? 0));
    const top = Math.max(1e-12, ...candidates.map(frequency));
    list = candidates
      .filter((c) => !(b.cycles && c.stocked))
      .map((c) => ({ ...c, score: (b.cycles ? (c.damp ?? 1) : 1) * ((b.repeat * frequency(c)) / top + (1 - b.repeat) * (c.explore ?? 0)) }))
      .sort((x, y) => y.score - x.score || (y.popularity ?? 0) - (x.popularity ?? 0) || (x.productId < y.productId ? -1 : 1));
  }
  const inList = new Set(candidates.map((c) => c.productId));
  return [...list, ...fill.filter((c) => !inList.has(c.productId)).map((c) => ({ ...c, score: strategy === 'FOR_CUSTOMER' ? 0 : c.score, strategy: 'POPULAR' as const }))];
}

/** Popularity and repeat weights, and cycles off and on, `tuneBlend` compares (every combination). */
const POPULARITY_WEIGHTS = [0, 0.2, 0.5, 0.8, 0.9, 0.95, 1];
const REPEAT_WEIGHTS = [0, 0.25, 0.5, 0.75, 1];
const CYCLES = [false, true];
/** The blend before the shop's is measured. */
const DEFAULT_BLEND: Blend = { popularity: 0.5, repeat: 0.5, cycles: true };

/**
 * Five strategies over the precomputed neighbour lists and daily counts: a request reads a few
 * index ranges and merges them; it never scans order lines.
 */
/**
 * What a rebuild is built from, summed up: the orders (a merge moves orders without touching
 * `updated_at`: the sum of their customer ids moves) and the products.
 */
const REBUILT_FROM = `
  select concat_ws('|',
    (select concat_ws(':', count(*), max(updated_at), sum(total_minor), sum(customer_id)) from kokyaku.orders where tenant_id = $1),
    (select concat_ws(':', count(*), max(updated_at)) from kokyaku.products where tenant_id = $1)) as fingerprint`;

export class RecommendationService {
  /**
   * Shop-wide figures every request needs (popular lists, repurchase rates, buyer count) change
   * slowly: they are kept for a minute per tenant rather than recomputed per request.
   */
  private readonly cache = new Map<string, { expires: number; value: Promise<unknown> }>();

  private cached<T>(ctx: KokyakuContext, key: string, compute: () => Promise<T>): Promise<T> {
    const full = `${ctx.tenantId}|${key}`;
    const now = Date.now();
    const hit = this.cache.get(full);
    if (hit && hit.expires > now) return hit.value as Promise<T>;
    if (this.cache.size > 1000) this.cache.clear();
    const value = compute();
    this.cache.set(full, { expires: now + 60_000, value });
    value.catch(() => this.cache.delete(full));
    return value;
  }

  /**
   * Drops the tenant's cached shop-wide figures (this process recorded orders for it; other
   * processes see them within the minute).
   */
  /** Orders whose contribution changed (the recommendations module's `orderRecorded`): what each bought follows, in the same transaction. */
  async ordersChanged(ctx: KokyakuContext, changes: readonly OrderChange[]): Promise<void> {
    await this.store.apply(ctx, changes);
    await this.changed(ctx);
  }

  forget(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}|`)) this.cache.delete(key);
  }

  private bus: Bus | null = null;

  /**
   * Shares cache drops with the other processes of the database: a change here drops their
   * cached figures of the tenant too (on commit), and a lost connection to the bus drops all.
   */
  shareChanges(bus: Bus): void {
    this.bus = bus;
    bus.subscribe(
      (message) => {
        if (message.kind === 'cache' && message.scope === 'recommendations') this.forget(message.tenantId);
      },
      () => this.cache.clear(),
    );
  }

  /** Drops the tenant's cached figures here and, when `ctx`'s transaction commits, in every other process. */
  private async changed(ctx: KokyakuContext): Promise<void> {
    this.forget(ctx.tenantId);
    await this.bus?.publish(ctx.em, { kind: 'cache', scope: 'recommendations', tenantId: ctx.tenantId });
  }

  constructor(
    private readonly config: RecommendationsConfig,
    private readonly products: ProductService,
    private readonly segments: SegmentService,
    private readonly store: RecommendationStore,
    private readonly metrics: MetricsService,
  ) {}

  /** Rebuilds every count and neighbour list of the context's tenant from its orders. */
  rebuild(ctx: KokyakuContext): Promise<void> {
    // One transaction: requests keep reading the previous lists until the new ones are complete.
    return transaction(ctx, (em) => this.store.rebuild({ ...ctx, em }));
  }

  /**
   * The refresh's step. A full rebuild when the orders or the products changed since the last
   * one (a new, re-recorded, cancelled or merged order, a catalog change), else
   * only the catch-up: the counts kept on ingestion are current, and the rebuild would write the
   * same lists again.
   */
  async refresh(ctx: KokyakuContext): Promise<'rebuilt' | 'unchanged'> {
    const [now] = (await sql<{ fingerprint: string }>(ctx.em, REBUILT_FROM, [ctx.tenantId])) as [{ fingerprint: string }];
    const [last] = await sql<{ rebuilt_from: string | null }>(ctx.em, `select rebuilt_from from kokyaku.recommendation_state where tenant_id = $1`, [ctx.tenantId]);
    if (last?.rebuilt_from === now.fingerprint) {
      await this.catchUp(ctx);
      return 'unchanged';
    }
    await this.rebuild(ctx);
    // Read before the rebuild: a change committed while it ran makes the next refresh rebuild again.
    await sql(ctx.em, `update kokyaku.recommendation_state set rebuilt_from = $2, rebuilt_at = now() where tenant_id = $1`, [ctx.tenantId, now.fingerprint]);
    return 'rebuilt';
  }

  /**
   * Folds the ownership changes logged by ingestion into the customer-level pair counts and
   * recomputes every stale neighbour list; returns how many lists. `scheduleRefresh` runs it every
   * minute; reads recompute a product's own stale lists anyway.
   */
  catchUp(ctx: KokyakuContext): Promise<number> {
    return this.store.catchUp(ctx);
  }

  /** The shops with logged changes `catchUp` has not folded yet (`em` across tenants, as the database user). */
  async pendingTenants(em: Parameters<typeof sql>[0]): Promise<string[]> {
    const rows = await sql<{ tenant_id: string }>(
      em,
      'select tenant_id from kokyaku.customer_product_changes /* every shop */ union select tenant_id from kokyaku.product_neighbours_stale /* every shop */',
    );
    return rows.map((r) => r.tenant_id);
  }

  /**
   * Replays the shop's history with each customer's last basket held out and measures every
   * strategy at k (see evaluation.ts). FOR_CUSTOMER, POPULAR and TRENDING recommend to the
   * customer; BOUGHT_TOGETHER and SIMILAR start from the customer's previous basket. `blends` adds
   * FOR_CUSTOMER rows at those weights (a number: that popularity weight at the shop's repeat
   * weight); `replayCustomers` replays a sample of buyers; `sampleSeed` draws another sample of
   * customers to evaluate (`tuneBlend` draws its own).
   */
  async evaluate(
    ctx: KokyakuContext,
    options: { k?: number; sample?: number; strategies?: Strategy[]; blends?: (number | Blend)[]; replayCustomers?: number; sampleSeed?: string } = {},
  ): Promise<Evaluation> {
    const k = options.k ?? 10;
    const sample = options.sample ?? 2000;
    if (!Number.isInteger(k) || k < 1 || k > 100) throw KokyakuError.badInput('"k" must be a whole number from 1 to 100.', { field: 'k' });
    if (!Number.isInteger(sample) || sample < 1) throw KokyakuError.badInput('"sample" must be a positive whole number.', { field: 'sample' });
    // Replayed FOR_CUSTOMER rows use the shop's own blend unless a row asks for another.
    const shopBlend = await this.blend(ctx);
    const blends = (options.blends ?? []).map((b) => (typeof b === 'number' ? { ...shopBlend, popularity: b } : b));
    for (const b of blends) {
      if (!(b.popularity >= 0 && b.popularity <= 1 && b.repeat >= 0 && b.repeat <= 1)) {
        throw KokyakuError.badInput('Each of "blends" is a popularity weight from 0 to 1 (with a repeat weight from 0 to 1).', { field: 'blends' });
      }
    }
    const evaluation = await evaluateRecommendations(
      ctx,
      {
        store: this.store,
        metrics: this.metrics,
        recommend: async (scratch, customerExternalId, basket, strategy, first, now, figuresAsOf) => {
          // The whole history counts as "recent" for popularity when replaying old data.
          const windowDays = strategy === 'TRENDING' ? 30 : 3650;
          if (strategy === 'BOUGHT_TOGETHER' || strategy === 'SIMILAR') {
            return (await this.fromBasket(scratch, basket, strategy, first, figuresAsOf, windowDays)).map((r) => r.product.externalId);
          }
          // BUY_AGAIN looks its default 7 days ahead.
          const recs = await this.recommend(scratch, {
            customerExternalId,
            strategy,
            first,
            now,
            figuresAsOf,
            windowDays: strategy === 'BUY_AGAIN' ? null : windowDays,
            popularityWeight: shopBlend.popularity,
            repeatWeight: shopBlend.repeat,
            cycles: shopBlend.cycles,
          });
          return recs.map((r) => r.product.externalId);
        },
        recommendBlends: async (scratch, customerExternalId, first, now, figuresAsOf, weights) =>
          (await this.recommendBlends(scratch, { customerExternalId, strategy: 'FOR_CUSTOMER', first, now, figuresAsOf, windowDays: 3650 }, weights)).map((list) =>
            list.map((r) => r.product.externalId),
          ),
      },
      { k, sample, strategies: options.strategies ?? [...STRATEGIES], blends, replayCustomers: options.replayCustomers, sampleSeed: options.sampleSeed },
    );
    // The shop's blend and why: the comparison `tuneBlend` chose it from (none while configured or unmeasured).
    const [state] = await sql<{ rows: EvaluationRow[] | null; at: string | null }>(
      ctx.em,
      `select blend_evaluation as rows, blend_measured_at::text as at from kokyaku.recommendation_state where tenant_id = $1`,
      [ctx.tenantId],
    );
    return { ...evaluation, blend: { ...shopBlend, measuredAt: state?.at ? new Date(state.at).toISOString() : null, rows: state?.rows ?? [] } };
  }

  /** The FOR_CUSTOMER blend: each part configured, or measured by `tuneBlend` (`DEFAULT_BLEND` before that). */
  async blend(ctx: KokyakuContext): Promise<Blend> {
    const { popularityWeight, repeatWeight, cycles } = this.config;
    if (popularityWeight !== 'auto' && repeatWeight !== 'auto' && cycles !== 'auto') return { popularity: popularityWeight, repeat: repeatWeight, cycles };
    const [state] = await this.cached(ctx, 'blend', () =>
      sql<{ blend: number | null; repeat_weight: number | null; cycles: boolean | null }>(
        ctx.em,
        `select blend, repeat_weight, cycles from kokyaku.recommendation_state where tenant_id = $1`,
        [ctx.tenantId],
      ),
    );
    return {
      popularity: popularityWeight === 'auto' ? (state?.blend ?? DEFAULT_BLEND.popularity) : popularityWeight,
      repeat: repeatWeight === 'auto' ? (state?.repeat_weight ?? DEFAULT_BLEND.repeat) : repeatWeight,
      cycles: cycles === 'auto' ? (state?.cycles ?? DEFAULT_BLEND.cycles) : cycles,
    };
  }

  /**
   * With `popularityWeight`, `repeatWeight` or `cycles` 'auto' (the default): replays a sample of
   * the shop's history (up to 20,000 buyers, 1,000 of them evaluated) at every combination of
   * popularity and repeat weights and cycles off and on (what is configured stays fixed) and keeps
   * the one with the best hit rate plus recall at 10 (then NDCG, then the one nearest
   * `DEFAULT_BLEND`): a shop whose customers buy the same things again gets a low popularity weight,
   * one where everybody buys the bestsellers a high one, one of tastes a low repeat weight, one of
   * replenishment cycles on. Returns what it measured. `refresh` passes `ifStale`: the blend is
   * measured again only when the placed orders have grown by a tenth since the last measurement,
   * or it is a week old (null is returned when it was not measured).
   */
  async tuneBlend(ctx: KokyakuContext, options: { ifStale?: boolean } = {}): Promise<(Blend & { rows: Evaluation['rows'] }) | null> {
    const { popularityWeight, repeatWeight, cycles } = this.config;
    if (popularityWeight !== 'auto' && repeatWeight !== 'auto' && cycles !== 'auto') return null;
    const [{ orders }] = (await sql<{ orders: string }>(ctx.em, `select count(*) as orders from kokyaku.orders where tenant_id = $1 and status = 'PLACED'`, [ctx.tenantId])) as [
      { orders: string },
    ];
    if (options.ifStale) {
      const [last] = await sql<{ fresh: boolean }>(
        ctx.em,
        `select blend is not null and repeat_weight is not null and cycles is not null and blend_measured_at > now() - interval '7 days' and $2::bigint < blend_orders * 1.1 as fresh
         from kokyaku.recommendation_state where tenant_id = $1`,
        [ctx.tenantId, orders],
      );
      if (last?.fresh) return null;
    }
    const blends = (popularityWeight === 'auto' ? POPULARITY_WEIGHTS : [popularityWeight]).flatMap((popularity) =>
      (repeatWeight === 'auto' ? REPEAT_WEIGHTS : [repeatWeight]).flatMap((repeat) => (cycles === 'auto' ? CYCLES : [cycles]).map((c) => ({ popularity, repeat, cycles: c }))),
    );
    // Its own sample of customers: an evaluation's default sample is another one, so that what it
    // reports of the chosen blend was not the figure it was chosen on.
    const evaluation = await this.evaluate(ctx, { k: 10, sample: 1000, strategies: [], blends, replayCustomers: 20_000, sampleSeed: 'blend' });
    if (evaluation.customers === 0) return null;
    // Ties (common in a small shop) go to the blend nearest the default.
    const offDefault = (r: EvaluationRow) =>
      Math.abs(r.popularityWeight! - DEFAULT_BLEND.popularity) + Math.abs(r.repeatWeight! - DEFAULT_BLEND.repeat) + (r.cycles === DEFAULT_BLEND.cycles ? 0 : 1);
    const best = [...evaluation.rows].sort(
      (a, b) => b.hitRate + b.recall - (a.hitRate + a.recall) || b.ndcg - a.ndcg || offDefault(a) - offDefault(b) || a.popularityWeight! - b.popularityWeight!,
    )[0]!;
    await sql(
      ctx.em,
      `insert into kokyaku.recommendation_state as t (tenant_id, repurchase, blend, repeat_weight, cycles, blend_evaluation, blend_orders, blend_measured_at)
       values ($1, '{"shop": 0, "byCategory": {}}'::jsonb, $2, $3, $4, $5::jsonb, $6, now())
       on conflict (tenant_id) do update
         set blend = excluded.blend, repeat_weight = excluded.repeat_weight, cycles = excluded.cycles, blend_evaluation = excluded.blend_evaluation,
             blend_orders = excluded.blend_orders, blend_measured_at = excluded.blend_measured_at`,
      [ctx.tenantId, best.popularityWeight, best.repeatWeight, best.cycles, JSON.stringify(evaluation.rows), orders],
    );
    await this.changed(ctx);
    return { popularity: best.popularityWeight!, repeat: best.repeatWeight!, cycles: best.cycles!, rows: evaluation.rows };
  }

  /** Neighbours of a whole basket (their scores summed), filled with popular items. */
  async fromBasket(ctx: KokyakuContext, externalIds: string[], kind: 'BOUGHT_TOGETHER' | 'SIMILAR', first: number, now: Date, windowDays: number): Promise<Recommendation[]> {
    const basket = await sql<{ id: string }>(ctx.em, `select id::text as id from kokyaku.products where tenant_id = $1 and external_id = any(kokyaku.json_texts($2::jsonb))`, [
      ctx.tenantId,
      JSON.stringify(externalIds),
    ]);
    const inBasket = new Set(basket.map((b) => b.id));
    const votes = new Map<string, number>();
    for (const n of await this.neighbours(ctx, [...inBasket], kind)) {
      if (!inBasket.has(n.neighbour_id)) votes.set(n.neighbour_id, (votes.get(n.neighbour_id) ?? 0) + n.score);
    }
    const candidates: Candidate[] = [...votes].sort((a, b) => b[1] - a[1]).map(([productId, score]) => ({ productId, score, reason: `With your basket` }));
    const seen = new Set(candidates.map((c) => c.productId));
    for (const c of await this.popular(ctx, windowDays, first * 3, now)) if (!seen.has(c.productId)) candidates.push({ ...c, score: 0, strategy: 'POPULAR' });
    const records = await this.products.findByIds(
      ctx,
      candidates.map((c) => c.productId),
    );
    return candidates
      .filter((c) => records.get(c.productId)?.inStock)
      .slice(0, first)
      .map((c) => ({ product: records.get(c.productId)!, score: c.score, reason: c.reason, strategy: c.strategy ?? kind }));
  }

  async recommend(ctx: KokyakuContext, args: RecommendationArgs): Promise<Recommendation[]> {
    const strategy = args.strategy ?? (args.productExternalId ? 'BOUGHT_TOGETHER' : args.customerExternalId ? 'FOR_CUSTOMER' : 'POPULAR');
    let blend: Blend = { popularity: 1, repeat: 0, cycles: false };
    if (strategy === 'FOR_CUSTOMER') {
      const shop = args.popularityWeight == null || args.repeatWeight == null || args.cycles == null ? await this.blend(ctx) : null;
      blend = { popularity: args.popularityWeight ?? shop!.popularity, repeat: args.repeatWeight ?? shop!.repeat, cycles: args.cycles ?? shop!.cycles };
    }
    return (await this.recommendBlends(ctx, args, [blend]))[0]!;
  }

  /**
   * `recommend` at several FOR_CUSTOMER blends at once (one list per blend): the candidates are
   * gathered once and only their blend differs. Evaluation measures blends with it.
   */
  async recommendBlends(ctx: KokyakuContext, args: RecommendationArgs, blends: readonly Blend[]): Promise<Recommendation[][]> {
    const first = args.first ?? 10;
    if (!Number.isInteger(first) || first < 1 || first > 100) throw KokyakuError.badInput('"first" must be a whole number from 1 to 100.', { field: 'first' });
    const windowDays = args.windowDays ?? null;
    if (windowDays !== null && !(Number.isInteger(windowDays) && windowDays >= 1 && windowDays <= 3650)) {
      throw KokyakuError.badInput('"windowDays" must be a whole number from 1 to 3650.', { field: 'windowDays' });
    }
    const now = args.now ?? new Date();
    const figuresAsOf = args.figuresAsOf ?? now;
    const strategy: Strategy = args.strategy ?? (args.productExternalId ? 'BOUGHT_TOGETHER' : args.customerExternalId ? 'FOR_CUSTOMER' : 'POPULAR');
    if (!STRATEGIES.includes(strategy)) throw KokyakuError.badInput(`"strategy" is one of ${STRATEGIES.join(', ')}.`, { field: 'strategy' });

    const personal = strategy === 'FOR_CUSTOMER' || strategy === 'BUY_AGAIN';
    const shopper = args.customerExternalId ? await this.shopper(ctx, args.customerExternalId, personal ? now : null) : null;
    if (args.segment != null) {
      if (!args.customerExternalId) throw KokyakuError.badInput('"segment" restricts recommendations to customers: give customerExternalId too.', { field: 'segment' });
      if (!shopper || !(await this.inSegment(ctx, shopper.id, args.segment))) return blends.map(() => []);
    }
    let product: ProductRecord | null = null;
    if (strategy === 'BOUGHT_TOGETHER' || strategy === 'SIMILAR') {
      if (!args.productExternalId) throw KokyakuError.badInput(`${strategy} needs productExternalId.`, { field: 'productExternalId' });
      product = await this.products.findByExternalId(ctx, args.productExternalId);
      if (!product) return blends.map(() => []);
    }
    if (personal && !args.customerExternalId) {
      throw KokyakuError.badInput(`${strategy} needs customerExternalId.`, { field: 'customerExternalId' });
    }
    if (!blends.every((b) => b.popularity >= 0 && b.popularity <= 1)) throw KokyakuError.badInput('"popularityWeight" is from 0 to 1.', { field: 'popularityWeight' });
    if (!blends.every((b) => b.repeat >= 0 && b.repeat <= 1)) throw KokyakuError.badInput('"repeatWeight" is from 0 to 1.', { field: 'repeatWeight' });
    const purchased = shopper?.purchased ?? new Set<string>();
    const want = first * 3 + purchased.size + 10;
    let candidates: Candidate[];
    switch (strategy) {
      case 'BOUGHT_TOGETHER':
        candidates = await this.fromNeighbours(ctx, [product!.id], 'BOUGHT_TOGETHER', want, (n) => `Bought together with ${product!.name} in ${n.support} orders`);
        break;
      case 'SIMILAR':
        candidates = await this.fromNeighbours(ctx, [product!.id], 'SIMILAR', want, (n) =>
          n.support > 0 ? `Similar to ${product!.name}: ${n.support} customers bought both` : `Similar to ${product!.name}: same categories or tags`,
        );
        break;
      case 'POPULAR':
        candidates = await this.popular(ctx, windowDays ?? 30, want, figuresAsOf);
        break;
      case 'TRENDING':
        candidates = await this.trending(ctx, windowDays ?? 14, want, figuresAsOf);
        break;
      case 'FOR_CUSTOMER':
        candidates = shopper ? await this.forCustomer(ctx, shopper, { now, figuresAsOf }, windowDays ?? 30) : [];
        break;
      case 'BUY_AGAIN':
        candidates = shopper ? this.buyAgain(ctx, shopper, now, windowDays ?? 7) : [];
        break;
    }
    // Cold start, or too few candidates: fill with what is popular now (BUY_AGAIN lists only what is due).
    const fill = candidates.length < first && strategy !== 'BUY_AGAIN' ? await this.popular(ctx, windowDays ?? 30, want, figuresAsOf) : [];
    const lists = blends.map((b) => ranked(candidates, fill, strategy, b, shopper?.orders ?? 0));
    // The products are read in ranked order, a few more than the list needs at a time: the rules
    // (stock, category, bought before) decide which make it.
    const records = new Map<string, ProductRecord | null>();
    const read = async (chunk: readonly Candidate[]) => {
      const ids = [...new Set(chunk.flatMap((c) => (c.because ? [c.productId, c.because.seed] : [c.productId])))].filter((id) => !records.has(id));
      const found = await this.products.findByIds(ctx, ids);
      for (const id of ids) records.set(id, found.get(id) ?? null);
    };
    // BUY_AGAIN lists purchases: the rule that leaves them out does not apply.
    const excluded = strategy === 'BUY_AGAIN' ? () => false : await this.exclusion(ctx, purchased, args.excludePurchased ?? null);
    const out: Recommendation[][] = [];
    for (const ranked of lists) {
      const list: Recommendation[] = [];
      const seen = new Set<string>(product ? [product.id] : []);
      for (let i = 0; i < ranked.length && list.length < first; i++) {
        const c = ranked[i]!;
        if (!records.has(c.productId) || (c.because && !records.has(c.because.seed))) await read(ranked.slice(i, i + first * 2 + (list.length === 0 ? first : 0)));
        const record = records.get(c.productId);
        if (!record || seen.has(c.productId) || excluded(record)) continue;
        if (!args.includeOutOfStock && !record.inStock) continue;
        if (args.category && !record.categories.includes(args.category)) continue;
        seen.add(c.productId);
        const reason = c.because ? `Because you ${c.because.verb} ${records.get(c.because.seed)?.name ?? 'an item'}` : c.reason;
        list.push({ product: record, score: c.score, reason, strategy: c.strategy ?? strategy, ...(c.dueOn ? { dueOn: c.dueOn } : {}) });
      }
      out.push(list);
    }
    return out;
  }

  /** The customer's id and purchases in one statement; with `seedsAsOf` (FOR_CUSTOMER), their seeds and the seeds' lists too. */
  private async shopper(ctx: KokyakuContext, externalId: string, seedsAsOf: Date | null): Promise<Shopper | null> {
    const [row] = await sql<{
      id: string;
      purchased: string[];
      orders: number;
      seeds: Shopper['seeds'];
      seed_buyers: Record<string, number>;
      neighbours: string | null;
      stale: string[];
    }>(ctx.em, SHOPPER, [ctx.tenantId, externalId, seedsAsOf?.toISOString() ?? null]);
    if (!row) return null;
    const neighbours = (row.neighbours ? row.neighbours.split(';') : []).map((entry) => {
      const [product_id, neighbour_id, score] = entry.split(',') as [string, string, string];
      return { product_id, neighbour_id, score: Number(score) };
    });
    return { id: row.id, purchased: new Set(row.purchased), orders: row.orders ?? 0, seeds: row.seeds, seedBuyers: row.seed_buyers, neighbours, stale: row.stale };
  }

  private async inSegment(ctx: KokyakuContext, customerId: string, query: string): Promise<boolean> {
    const compiled = await this.segments.compile(ctx, query, { firstParam: 3 });
    const from = segmentFrom(compiled);
    const rows = await sql(ctx.em, `select 1 from ${from} where f.tenant_id = $1 and f.customer_id = $2::bigint and ${compiled.where}`, [
      ctx.tenantId,
      customerId,
      ...compiled.params,
    ]);
    return rows.length > 0;
  }

  /**
   * The purchased products to leave out. Auto (default): a product whose first category (or, if it
   * has none, the shop as a whole) is rarely bought again by the same customer.
   */
  private async exclusion(ctx: KokyakuContext, purchased: Set<string>, override: boolean | null): Promise<(record: ProductRecord) => boolean> {
    if (purchased.size === 0 || override === false) return () => false;
    if (override === true || this.config.excludePurchased === 'always') return (record) => purchased.has(record.id);
    if (this.config.excludePurchased === 'never') return () => false;
    const rates = await this.repurchaseRates(ctx);
    const { repurchaseThreshold } = this.config;
    return (record) => purchased.has(record.id) && (rates.byCategory.get(record.categories[0] ?? '') ?? rates.shop) < repurchaseThreshold;
  }

  /** Share of a category's buyers who bought the same product again. */
  repurchaseRates(ctx: KokyakuContext): Promise<{ shop: number; byCategory: Map<string, number> }> {
    return this.cached(ctx, 'repurchase', () => this.computeRepurchaseRates(ctx));
  }

  private async computeRepurchaseRates(ctx: KokyakuContext): Promise<{ shop: number; byCategory: Map<string, number> }> {
    let [state] = await sql<{ repurchase: { shop: number; byCategory: Record<string, number> } }>(
      ctx.em,
      `select repurchase from kokyaku.recommendation_state where tenant_id = $1`,
      [ctx.tenantId],
    );
    if (!state) {
      await this.store.measureRepurchase(ctx);
      [state] = await sql(ctx.em, `select repurchase from kokyaku.recommendation_state where tenant_id = $1`, [ctx.tenantId]);
    }
    const repurchase = state?.repurchase ?? { shop: 0, byCategory: {} };
    return { shop: repurchase.shop, byCategory: new Map(Object.entries(repurchase.byCategory)) };
  }

  /**
   * The lists of some products. The same statement reports which of them recorded orders marked
   * stale; only then are those recomputed (`store.freshen`) and the lists read again.
   */
  private async neighbours(ctx: KokyakuContext, productIds: readonly string[], kind: 'BOUGHT_TOGETHER' | 'ALSO_BOUGHT' | 'SIMILAR', checkStale = true): Promise<NeighbourRow[]> {
    if (productIds.length === 0) return [];
    const rows = await sql<NeighbourRow & { stale: boolean }>(
      ctx.em,
      `select product_id::text as product_id, neighbour_id::text as neighbour_id, score, support, false as stale, product_id as pid, rank
       from kokyaku.product_neighbours
       where tenant_id = $4 and kind = $2 and product_id = any(kokyaku.json_bigints($1::jsonb))
       union all
       select product_id::text, null, null, null, true, product_id, null
       from kokyaku.product_neighbours_stale
       where $3 and tenant_id = $4 and product_id = any(kokyaku.json_bigints($1::jsonb))
       order by pid, rank`,
      [JSON.stringify(productIds), kind, checkStale, ctx.tenantId],
    );
    const stale = rows.filter((r) => r.stale).map((r) => r.product_id);
    if (stale.length === 0) return rows;
    await this.store.freshen(ctx, stale);
    return this.neighbours(ctx, productIds, kind, false);
  }

  private async fromNeighbours(
    ctx: KokyakuContext,
    productIds: readonly string[],
    kind: 'BOUGHT_TOGETHER' | 'SIMILAR',
    limit: number,
    reason: (n: NeighbourRow) => string,
  ): Promise<Candidate[]> {
    return (await this.neighbours(ctx, productIds, kind)).slice(0, limit).map((n) => ({ productId: n.neighbour_id, score: n.score, reason: reason(n) }));
  }

  private async popular(ctx: KokyakuContext, days: number, limit: number, now: Date): Promise<Candidate[]> {
    const today = todayIn(ctx.shop.timeZone, now);
    const list = await this.cached(ctx, `popular|${days}|${today}`, () => this.computePopular(ctx, days, today));
    return list.slice(0, limit);
  }

  /**
   * The most ordered products of the last `days` days. A shop with no orders in that window (a
   * quiet month, or a history loaded from the past) gets the `days` days up to its last order
   * instead: "popular" is never empty while the shop has sold anything.
   */
  private async computePopular(ctx: KokyakuContext, days: number, today: string): Promise<Candidate[]> {
    const limit = 500;
    const last = await sqlOne<{ day: string | null }>(
      ctx.em,
      `select to_char(max(day), 'YYYY-MM-DD') as day from kokyaku.product_daily where tenant_id = $1 and day <= $2::date and baskets > 0`,
      [ctx.tenantId, today],
    );
    if (!last?.day) return [];
    const end = last.day > addDays(today, -days) ? today : last.day;
    const rows = await sql<{ product_id: string; baskets: number }>(
      ctx.em,
      `select product_id::text as product_id, sum(baskets)::int as baskets from kokyaku.product_daily
       where tenant_id = $1 and day > $2::date and day <= $4::date group by product_id having sum(baskets) > 0
       order by 2 desc, 1 limit $3`,
      [ctx.tenantId, addDays(end, -days), limit, end],
    );
    const top = rows[0]?.baskets ?? 1;
    // The orders of the window: each product's share of the baskets (FOR_CUSTOMER's prior).
    const [{ orders }] = (await sql<{ orders: number }>(
      ctx.em,
      `select count(*)::int as orders from kokyaku.orders
       where tenant_id = $1 and status = 'PLACED' and placed_at >= ($2::date + 1)::timestamp at time zone $4 and placed_at < ($3::date + 1)::timestamp at time zone $4`,
      [ctx.tenantId, addDays(end, -days), end, ctx.shop.timeZone],
    )) as [{ orders: number }];
    const window = end === today ? `in the last ${days} days` : `in the ${days} days to ${end}`;
    return rows.map((r) => ({
      productId: r.product_id,
      score: r.baskets / top,
      popularity: Math.min(1, r.baskets / Math.max(orders, 1)),
      reason: `Popular: ordered ${r.baskets} times ${window}`,
    }));
  }

  private async trending(ctx: KokyakuContext, days: number, limit: number, now: Date): Promise<Candidate[]> {
    const today = todayIn(ctx.shop.timeZone, now);
    const rows = await sql<{ product_id: string; recent: number; previous: number }>(
      ctx.em,
      `select product_id::text as product_id,
              sum(baskets) filter (where day > $2::date)::int as recent,
              coalesce(sum(baskets) filter (where day <= $2::date), 0)::int as previous
       from kokyaku.product_daily
       where tenant_id = $1 and day > $3::date and day <= $5::date
       group by product_id
       having sum(baskets) filter (where day > $2::date) >= 3
          and sum(baskets) filter (where day > $2::date) > coalesce(sum(baskets) filter (where day <= $2::date), 0)
       order by (sum(baskets) filter (where day > $2::date) - coalesce(sum(baskets) filter (where day <= $2::date), 0))
                / sqrt(coalesce(sum(baskets) filter (where day <= $2::date), 0) + 1) desc, 1
       limit $4`,
      [ctx.tenantId, addDays(today, -days), addDays(today, -2 * days), limit, today],
    );
    return rows.map((r) => ({
      productId: r.product_id,
      score: (r.recent - r.previous) / Math.sqrt(r.previous + 1),
      reason: `Trending: ordered ${r.recent} times in the last ${days} days, up from ${r.previous}`,
    }));
  }

  /** The customer's purchases, each with its chance of being bought again now (see repeat.ts). */
  private purchases(shopper: Shopper, asOf: Date) {
    return shopper.seeds
      .filter((s) => s.kind === 'purchase')
      .map((s) => {
        const chance = repeatChance({ times: s.times, first: new Date(s.first ?? s.at), last: new Date(s.at), productCycleDays: s.cycle ?? null }, shopper.orders, asOf);
        return { productId: s.product_id, times: s.times, ...chance };
      });
  }

  /** "You buy it about every N days" and the like: why an item is due. */
  private static cycleText(c: { cycleDays: number | null; own: boolean }): string {
    const days = Math.round(c.cycleDays ?? 0);
    return c.own ? `you buy it about every ${days} day(s)` : `its buyers buy it again about every ${days} day(s)`;
  }

  /**
   * BUY_AGAIN: what the customer bought whose next purchase is expected by `daysAhead` days from
   * now (or is overdue), most likely first, each with the day it is due.
   */
  private buyAgain(ctx: KokyakuContext, shopper: Shopper, asOf: Date, daysAhead: number): Candidate[] {
    const horizon = asOf.getTime() + daysAhead * 86_400_000;
    return this.purchases(shopper, asOf)
      .filter((p) => p.dueAt && p.dueAt.getTime() <= horizon)
      .map((p) => {
        const dueOn = todayIn(ctx.shop.timeZone, p.dueAt!);
        return { productId: p.productId, score: p.score, dueOn, reason: `Due again around ${dueOn}: ${RecommendationService.cycleText(p)}` };
      })
      .sort((a, b) => b.score - a.score || (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : 0) || (a.productId < b.productId ? -1 : 1));
  }

  /**
   * Personal, in two parts the caller blends with popularity (see `Blend`). Repeat: the chance the
   * customer buys each of their purchases again now (repeat.ts: their frequency of it, recency and
   * repurchase cycle); what they buy in a rhythm of their own is held back as a whole until it
   * comes round, and left out (`stocked`) in the first half of it (with `Blend.cycles`). Explore: the customer's
   * purchases and recent views and carts (recent ones weigh more, halving every
   * `recencyHalfLifeDays`) each vote for their ALSO_BOUGHT neighbours. Popular items join with
   * neither part.
   */
  private async forCustomer(ctx: KokyakuContext, shopper: Shopper, { now: asOf, figuresAsOf }: { now: Date; figuresAsOf: Date }, popularDays: number): Promise<Candidate[]> {
    const { recencyHalfLifeDays } = this.config;
    const { seeds } = shopper;
    if (seeds.length === 0) return [];
    // A purchase of what everybody buys says little about taste: seeds weigh ln(N / n), the
    // inverse document frequency of the product among the shop's buyers.
    const [totals] = await this.cached(ctx, 'buyers', () =>
      sql<{ buyers: number }>(ctx.em, `select count(*)::int as buyers from kokyaku.customer_facts where tenant_id = $1 and orders_count > 0`, [ctx.tenantId]),
    );
    const buyers = Math.max(totals?.buyers ?? 1, 1);
    const idf = (productId: string) => (this.config.seedIdf ? Math.max(0.05, Math.log(buyers / Math.max(1, shopper.seedBuyers[productId] ?? 1))) : 1);
    const now = asOf.getTime();
    const weight = new Map<string, { w: number; kind: string }>();
    for (const s of seeds) {
      const age = (now - new Date(s.at).getTime()) / 86_400_000;
      const w = WEIGHTS[s.kind] * Math.log2(1 + s.times) * 0.5 ** (Math.max(0, age) / recencyHalfLifeDays) * idf(s.product_id);
      const current = weight.get(s.product_id);
      weight.set(s.product_id, { w: (current?.w ?? 0) + w, kind: current && current.w > w ? current.kind : s.kind });
    }
    // Lists that recorded orders marked stale are recomputed first (rare: the catch-up runs every minute).
    const neighbours = shopper.stale.length ? await this.neighbours(ctx, [...weight.keys()], 'ALSO_BOUGHT') : shopper.neighbours;
    const votes = new Map<string, { score: number; best: { seed: string; part: number } }>();
    for (const n of neighbours) {
      const part = weight.get(n.product_id)!.w * n.score;
      const v = votes.get(n.neighbour_id) ?? { score: 0, best: { seed: n.product_id, part: 0 } };
      v.score += part;
      if (part > v.best.part) v.best = { seed: n.product_id, part };
      votes.set(n.neighbour_id, v);
    }
    const popular = await this.popular(ctx, popularDays, 200, figuresAsOf);
    const popularity = new Map(popular.map((p) => [p.productId, p.popularity ?? 0]));
    const repeats = new Map(this.purchases(shopper, asOf).map((p) => [p.productId, p]));
    const top = Math.max(...[...votes.values()].map((v) => v.score), 1e-9);
    const ids = new Set([...votes.keys(), ...repeats.keys()]);
    const candidates: Candidate[] = [...ids].map((productId) => {
      const v = votes.get(productId);
      const r = repeats.get(productId);
      const explore = v ? v.score / top : 0;
      // Their own rhythm holds the whole item back until it comes round (with cycles on); a cycle
      // known otherwise only its repeat part.
      const repeat = r ? r.times * r.recency * (r.rhythm ? 1 : r.due) : 0;
      const candidate: Candidate = { productId, score: 0, repeat, explore, popularity: popularity.get(productId) ?? 0, reason: '' };
      if (r?.rhythm) {
        candidate.damp = r.due;
        candidate.stocked = r.stocked;
      }
      if (r?.dueAt) candidate.dueOn = todayIn(ctx.shop.timeZone, r.dueAt);
      if (v && (!r || explore >= r.score)) {
        const seed = weight.get(v.best.seed)!;
        candidate.because = { seed: v.best.seed, verb: seed.kind === 'purchase' ? 'bought' : seed.kind === 'added_to_cart' ? 'added to your cart' : 'viewed' };
      } else {
        candidate.reason = `Buy again: you bought it ${r!.times} time(s)${r!.cycleDays ? `; ${RecommendationService.cycleText(r!)}` : ''}`;
      }
      return candidate;
    });
    // Popular items take part in the blend too (with no personal part).
    for (const p of popular) {
      if (!ids.has(p.productId)) candidates.push({ ...p, repeat: 0, explore: 0, strategy: 'POPULAR' });
    }
    return candidates;
  }
}
