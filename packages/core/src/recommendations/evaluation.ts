import { randomBytes } from 'node:crypto';
import type { KokyakuContext } from '../shared/context.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { sql, transaction } from '../shared/sql.js';
import { COPY_PRODUCTS } from '../catalog/published.js';
import { copyCustomers } from '../customers/published.js';
import { COPY_ORDER_LINES, copyPlacedOrders } from '../orders/published.js';
import { copyEventsBefore } from '../events/published.js';
import type { RecommendationStore } from './recommendation.store.js';
import type { Blend, Strategy } from './recommendation.service.js';

/** Hit rate, recall and NDCG at k over one part of the held-out items. */
export interface EvaluationScores {
  /** Share of customers with at least one held-out item (of this part) in the top k. */
  hitRate: number;
  /** Mean share of each customer's held-out items found in the top k (repeat + explore = all). */
  recall: number;
  /** Mean normalised discounted cumulative gain of the top k, binary relevance (repeat + explore = all). */
  ndcg: number;
}

export interface EvaluationRow extends EvaluationScores {
  strategy: Strategy;
  /** FOR_CUSTOMER rows of a blend comparison: the blend used (see `Blend`). */
  popularityWeight?: number;
  repeatWeight?: number;
  cycles?: boolean;
  customers: number;
  /**
   * The same scores counting only the held-out items the customer had bought before (repeat) or
   * not (explore). Recall and NDCG of the two parts add up to the whole; hit rates need not.
   */
  repeat: EvaluationScores;
  explore: EvaluationScores;
}

/**
 * The baselines of the next-basket literature, on the same cases: the items most often bought in
 * the replayed history (G-TopFreq, one list for all); each customer's own most often bought items
 * (P-TopFreq: orders with the item, then the latest; nothing else when they have fewer); P-TopFreq
 * filled up with G-TopFreq (GP-TopFreq); and item-kNN, the items most similar to everything the
 * customer bought (their ALSO_BOUGHT similarities summed, no popularity, no recency).
 */
export type EvaluationBaseline = 'G_TOPFREQ' | 'P_TOPFREQ' | 'GP_TOPFREQ' | 'ITEM_KNN';
export interface EvaluationBaselineRow extends EvaluationScores {
  baseline: EvaluationBaseline;
  customers: number;
  repeat: EvaluationScores;
  explore: EvaluationScores;
}

export interface Evaluation {
  k: number;
  /** Customers whose history was replayed (all, or a sample of the shop's buyers). */
  replayedCustomers: number;
  /** Customers with a held-out basket and some history before it. */
  eligibleCustomers: number;
  customers: number;
  /**
   * The end of the training history: the shop-wide figures (popularity, neighbour lists,
   * repurchase cycles) come from all of it, as in the next-basket literature. Each customer is
   * recommended to as of just before their held-out basket: what they bought and when counts up
   * to then (the moment a shop asking on their visit would have had).
   */
  asOf: string;
  /** Share of the held-out items the customer had bought before: how much of a basket is repeat. */
  repeatShare: number;
  rows: EvaluationRow[];
  baselines: EvaluationBaselineRow[];
  /**
   * The shop's FOR_CUSTOMER blend, and why: when `tuneBlend` measured it and every blend it
   * compared (empty while the blend is configured or not measured yet).
   */
  blend?: Blend & { measuredAt: string | null; rows: EvaluationRow[] };
}

/** `at`: the moment of the customer's visit; `asOf`: the end of the training history (the shop-wide figures). */
type Recommend = (ctx: KokyakuContext, customerExternalId: string, basket: string[], strategy: Strategy, k: number, at: Date, asOf: Date) => Promise<string[]>;
/** FOR_CUSTOMER lists at several blends, one per blend. */
type RecommendBlends = (ctx: KokyakuContext, customerExternalId: string, k: number, at: Date, asOf: Date, blends: readonly Blend[]) => Promise<string[][]>;

class Rollback extends Error {}

/**
 * The statements of an evaluation: $1 the shop, $2 the scratch tenant (cases: $1 the sample size,
 * $2 the shop, $3 the seed of the sample: customers in the order of md5(seed || id)).
 */
const EVALUATION_SQL = {
  buyers: `create temp table kk_replay on commit drop as
         select customer_id from kokyaku.orders where tenant_id = $1 and status = 'PLACED'
         group by customer_id order by md5(customer_id::text) limit $2`,
  heldout: `create temp table kk_heldout on commit drop as
         select distinct on (o.customer_id) o.id, o.customer_id, o.placed_at
         from kokyaku.orders o
         where o.tenant_id = $1 and o.status = 'PLACED'
           and o.customer_id in (select customer_id from kokyaku.orders where tenant_id = $1 and status = 'PLACED'
                                 and customer_id in (select customer_id from kk_replay) group by 1 having count(*) >= 2)
         order by o.customer_id, o.placed_at desc, o.id desc`,
  // The copies are their modules' statements: each module writes only its own tables.
  products: COPY_PRODUCTS,
  customers: copyCustomers('select customer_id from kk_replay'),
  orders: copyPlacedOrders('select id from kk_heldout'),
  lines: COPY_ORDER_LINES,
  events: copyEventsBefore('kk_heldout'),
  cases: `with eligible as (
           select h.id, h.customer_id, h.placed_at, c.external_id
           from kk_heldout h join kokyaku.customers c on c.tenant_id = $2 and c.id = h.customer_id
         )
         select e.external_id as customer, e.placed_at as at,
                array(select distinct pr.external_id from kokyaku.order_lines l join kokyaku.products pr on pr.tenant_id = $2 and pr.id = l.product_id
                      where l.tenant_id = $2 and l.order_id = e.id) as heldout,
                array(select distinct pr.external_id from kokyaku.order_lines l join kokyaku.products pr on pr.tenant_id = $2 and pr.id = l.product_id
                      where l.tenant_id = $2 and l.order_id = (select o.id from kokyaku.orders o where o.tenant_id = $2 and o.customer_id = e.customer_id and o.status = 'PLACED' and o.id <> e.id
                                          order by o.placed_at desc, o.id desc limit 1)) as basket,
                -- Everything bought before the held-out basket, most often bought first (P-TopFreq).
                array(select pr.external_id from kokyaku.order_lines l
                      join kokyaku.orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
                      join kokyaku.products pr on pr.tenant_id = l.tenant_id and pr.id = l.product_id
                      where l.tenant_id = $2 and o.customer_id = e.customer_id and o.status = 'PLACED' and o.id <> e.id
                      group by pr.external_id order by count(distinct o.id) desc, max(o.placed_at) desc, pr.external_id) as history
         from eligible e
         order by md5($3 || e.external_id)
         limit $1`,
  /** G-TopFreq: the items in most orders of the replayed history ($1 the scratch tenant, $2 k). */
  popular: `select pr.external_id as product from kokyaku.order_lines l
         join kokyaku.products pr on pr.tenant_id = l.tenant_id and pr.id = l.product_id
         where l.tenant_id = $1
         group by pr.external_id order by count(distinct l.order_id) desc, pr.external_id limit $2`,
  /** Item-kNN: the ALSO_BOUGHT neighbours of a history ($2, external ids), similarities summed ($1 the scratch tenant, $3 k). */
  itemKnn: `select pr.external_id as product from kokyaku.product_neighbours n
         join kokyaku.products h on h.tenant_id = n.tenant_id and h.id = n.product_id
         join kokyaku.products pr on pr.tenant_id = n.tenant_id and pr.id = n.neighbour_id
         where n.tenant_id = $1 and n.kind = 'ALSO_BOUGHT' and h.tenant_id = $1 and h.external_id = any(kokyaku.json_texts($2::jsonb))
         group by pr.external_id order by sum(n.score) desc, pr.external_id limit $3`,
};

/**
 * Offline evaluation on the shop's own history: each customer's last basket is held out, every
 * other order (and every event before that basket) is replayed into a scratch tenant inside a
 * transaction, the counts and lists are rebuilt there, and each strategy recommends k items to
 * customers with a held-out basket. The transaction is rolled back: nothing of it stays.
 */
export async function evaluateRecommendations(
  ctx: KokyakuContext,
  deps: { store: RecommendationStore; metrics: MetricsService; recommend: Recommend; recommendBlends: RecommendBlends },
  options: { k: number; sample: number; strategies: Strategy[]; blends?: Blend[]; replayCustomers?: number; sampleSeed?: string },
): Promise<Evaluation> {
  let result: Evaluation | undefined;
  try {
    await transaction(
      ctx,
      async (em) => {
        const scratch: KokyakuContext = { ...ctx, em, tenantId: `eval:${randomBytes(6).toString('hex')}` };
        await replayHistory(scratch, ctx.tenantId, options.replayCustomers ?? null);
        // The planner knows nothing of the scratch tenant yet: it would take its rows for a handful
        // and look its order lines up by tenant alone, once per order (minutes instead of a second).
        // ANALYZE here counts this transaction's rows, and rolls back with it.
        await sql(em, 'analyze kokyaku.products, kokyaku.customers, kokyaku.orders, kokyaku.order_lines, kokyaku.events');
        await deps.metrics.refresh(scratch);
        await deps.store.rebuild(scratch);
        // The same for what the rebuild wrote: without it a request looked the seeds' lists up by
        // scanning every list of the scratch tenant (225 ms a request on a 12,000-product shop).
        await sql(em, 'analyze kokyaku.product_neighbours, kokyaku.product_stats, kokyaku.customer_products, kokyaku.product_daily');

        const [end] = await sql<{ at: string | null }>(em, `select max(placed_at)::text as at from kokyaku.orders where tenant_id = $1`, [scratch.tenantId]);
        const asOf = new Date(new Date(end?.at ?? Date.now()).getTime() + 1000);
        const cases = await sql<EvaluationCase>(em, EVALUATION_SQL.cases, [options.sample, ctx.tenantId, options.sampleSeed ?? '']);
        const [eligible] = await sql<{ n: number }>(em, `select count(*)::int as n from kk_heldout`);
        const popular = (await sql<{ product: string }>(em, EVALUATION_SQL.popular, [scratch.tenantId, options.k])).map((r) => r.product);
        const { rows, baselines } = await scoreCases(scratch, deps, options, cases, asOf, popular);
        const [replayed] = await sql<{ n: number }>(em, `select count(*)::int as n from kk_replay`);
        const heldout = cases.reduce((n, c) => n + new Set(c.heldout).size, 0);
        const repeats = cases.reduce((n, c) => n + [...new Set(c.heldout)].filter((id) => c.history.includes(id)).length, 0);
        result = {
          k: options.k,
          replayedCustomers: replayed?.n ?? 0,
          eligibleCustomers: eligible?.n ?? 0,
          customers: cases.length,
          asOf: asOf.toISOString(),
          repeatShare: heldout > 0 ? repeats / heldout : 0,
          rows,
          baselines,
        };
        throw new Rollback();
      },
      { acrossTenants: true },
    );
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result!;
}

interface EvaluationCase {
  customer: string;
  /** When the held-out basket was placed. */
  at: Date;
  heldout: string[];
  basket: string[];
  /** What the customer bought before the held-out basket, most often bought first. */
  history: string[];
}

/**
 * Every order but each customer's last (held out) into the scratch tenant, with their products,
 * customers and the events before the held-out basket.
 */
async function replayHistory(scratch: KokyakuContext, tenantId: string, replayCustomers: number | null): Promise<void> {
  const p = [tenantId, scratch.tenantId];
  // The customers replayed: every buyer, or a deterministic sample of them.
  await sql(scratch.em, EVALUATION_SQL.buyers, [tenantId, replayCustomers]);
  await sql(scratch.em, `alter table kk_replay add primary key (customer_id)`);
  await sql(scratch.em, EVALUATION_SQL.heldout, [tenantId]);
  for (const statement of [EVALUATION_SQL.products, EVALUATION_SQL.customers, EVALUATION_SQL.orders, EVALUATION_SQL.lines, EVALUATION_SQL.events]) {
    await sql(scratch.em, statement, p);
  }
}

/** Sums over the cases, whole and split into repeat and explore items. */
interface Measure {
  all: Sums;
  repeat: Sums;
  explore: Sums;
}
interface Sums {
  hits: number;
  recall: number;
  ndcg: number;
}

/**
 * One customer's list against their held-out items, added to `m`. Each found item counts in the
 * whole and in its part (repeat: bought before; explore: not), each part over the whole basket, so
 * that recall and NDCG of the parts add up to the whole.
 */
export function scoreList(m: Measure, list: readonly string[], heldout: readonly string[], history: readonly string[], k: number): void {
  const relevant = new Set(heldout);
  if (relevant.size === 0) return;
  const before = new Set(history);
  let ideal = 0;
  for (let i = 0; i < Math.min(relevant.size, k); i++) ideal += 1 / Math.log2(i + 2);
  const found = { all: 0, repeat: 0, explore: 0 };
  const dcg = { all: 0, repeat: 0, explore: 0 };
  list.slice(0, k).forEach((id, i) => {
    if (!relevant.has(id)) return;
    const part = before.has(id) ? 'repeat' : 'explore';
    const gain = 1 / Math.log2(i + 2);
    for (const key of ['all', part] as const) {
      found[key]++;
      dcg[key] += gain;
    }
  });
  for (const key of ['all', 'repeat', 'explore'] as const) {
    if (found[key] > 0) m[key].hits++;
    m[key].recall += found[key] / relevant.size;
    m[key].ndcg += dcg[key] / ideal;
  }
}

export const emptyMeasure = (): Measure => ({ all: { hits: 0, recall: 0, ndcg: 0 }, repeat: { hits: 0, recall: 0, ndcg: 0 }, explore: { hits: 0, recall: 0, ndcg: 0 } });

/** Hit rate, recall and NDCG at k of each strategy (and each blend of FOR_CUSTOMER), and of the baselines, over the cases. */
async function scoreCases(
  scratch: KokyakuContext,
  deps: { recommend: Recommend; recommendBlends: RecommendBlends },
  options: { k: number; strategies: Strategy[]; blends?: Blend[] },
  cases: readonly EvaluationCase[],
  asOf: Date,
  popular: readonly string[],
): Promise<{ rows: EvaluationRow[]; baselines: EvaluationBaselineRow[] }> {
  const n = Math.max(cases.length, 1);
  const scores = (s: Sums): EvaluationScores => ({ hitRate: s.hits / n, recall: s.recall / n, ndcg: s.ndcg / n });
  const measured = (m: Measure) => ({ ...scores(m.all), customers: cases.length, repeat: scores(m.repeat), explore: scores(m.explore) });
  const rows: EvaluationRow[] = [];
  for (const strategy of options.strategies) {
    const m = emptyMeasure();
    for (const c of cases) scoreList(m, await deps.recommend(scratch, c.customer, c.basket, strategy, options.k, justBefore(c), asOf), c.heldout, c.history, options.k);
    rows.push({ strategy, ...measured(m) });
  }
  const blends = options.blends ?? [];
  if (blends.length > 0) {
    const ms = blends.map(emptyMeasure);
    for (const c of cases) {
      const lists = await deps.recommendBlends(scratch, c.customer, options.k, justBefore(c), asOf, blends);
      for (const [i, list] of lists.entries()) scoreList(ms[i]!, list, c.heldout, c.history, options.k);
    }
    for (const [i, b] of blends.entries()) rows.push({ strategy: 'FOR_CUSTOMER', popularityWeight: b.popularity, repeatWeight: b.repeat, cycles: b.cycles, ...measured(ms[i]!) });
  }
  const g = emptyMeasure();
  const p = emptyMeasure();
  const gp = emptyMeasure();
  const knn = emptyMeasure();
  for (const c of cases) {
    scoreList(g, popular, c.heldout, c.history, options.k);
    scoreList(p, c.history, c.heldout, c.history, options.k);
    const own = c.history.slice(0, options.k);
    scoreList(gp, [...own, ...popular.filter((id) => !own.includes(id))], c.heldout, c.history, options.k);
    const similar = await sql<{ product: string }>(scratch.em, EVALUATION_SQL.itemKnn, [scratch.tenantId, JSON.stringify(c.history), options.k]);
    scoreList(
      knn,
      similar.map((r) => r.product),
      c.heldout,
      c.history,
      options.k,
    );
  }
  return {
    rows,
    baselines: [
      { baseline: 'G_TOPFREQ', ...measured(g) },
      { baseline: 'P_TOPFREQ', ...measured(p) },
      { baseline: 'GP_TOPFREQ', ...measured(gp) },
      { baseline: 'ITEM_KNN', ...measured(knn) },
    ],
  };
}

/** A customer's held-out basket is recommended for a second before it was placed. */
const justBefore = (c: EvaluationCase): Date => new Date(new Date(c.at).getTime() - 1000);
