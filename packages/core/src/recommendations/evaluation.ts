import { randomBytes } from 'node:crypto';
import type { KokyakuContext } from '../shared/context.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { sql, transaction } from '../shared/sql.js';
import { COPY_PRODUCTS } from '../catalog/published.js';
import { copyCustomers } from '../customers/published.js';
import { COPY_ORDER_LINES, copyPlacedOrders } from '../orders/published.js';
import { copyEventsBefore } from '../events/published.js';
import type { RecommendationStore } from './recommendation.store.js';
import type { Strategy } from './recommendation.service.js';

export interface EvaluationRow {
  strategy: Strategy;
  /** FOR_CUSTOMER rows of a blend comparison: the popularity weight used. */
  popularityWeight?: number;
  /** Share of customers with at least one held-out item in the top k. */
  hitRate: number;
  /** Mean share of each customer's held-out items found in the top k. */
  recall: number;
  /** Mean normalised discounted cumulative gain of the top k (binary relevance). */
  ndcg: number;
  customers: number;
}

export interface Evaluation {
  k: number;
  /** Customers whose history was replayed (all, or a sample of the shop's buyers). */
  replayedCustomers: number;
  /** Customers with a held-out basket and some history before it. */
  eligibleCustomers: number;
  customers: number;
  /** The day the replay recommends as of: the end of the training history. */
  asOf: string;
  rows: EvaluationRow[];
}

type Recommend = (ctx: KokyakuContext, customerExternalId: string, basket: string[], strategy: Strategy, k: number, asOf: Date) => Promise<string[]>;
/** FOR_CUSTOMER lists at several popularity weights, one per weight. */
type RecommendBlends = (ctx: KokyakuContext, customerExternalId: string, k: number, asOf: Date, weights: readonly number[]) => Promise<string[][]>;

class Rollback extends Error {}

/** The statements of an evaluation: $1 the shop, $2 the scratch tenant (cases: $1 the sample size, $2 the shop). */
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
           select h.id, h.customer_id, c.external_id
           from kk_heldout h join kokyaku.customers c on c.tenant_id = $2 and c.id = h.customer_id
         )
         select e.external_id as customer,
                array(select distinct pr.external_id from kokyaku.order_lines l join kokyaku.products pr on pr.tenant_id = $2 and pr.id = l.product_id
                      where l.tenant_id = $2 and l.order_id = e.id) as heldout,
                array(select distinct pr.external_id from kokyaku.order_lines l join kokyaku.products pr on pr.tenant_id = $2 and pr.id = l.product_id
                      where l.tenant_id = $2 and l.order_id = (select o.id from kokyaku.orders o where o.tenant_id = $2 and o.customer_id = e.customer_id and o.status = 'PLACED' and o.id <> e.id
                                          order by o.placed_at desc, o.id desc limit 1)) as basket
         from eligible e
         order by md5(e.external_id)
         limit $1`,
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
  options: { k: number; sample: number; strategies: Strategy[]; blends?: number[]; replayCustomers?: number },
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

        const [end] = await sql<{ at: string | null }>(em, `select max(placed_at)::text as at from kokyaku.orders where tenant_id = $1`, [scratch.tenantId]);
        const asOf = new Date(new Date(end?.at ?? Date.now()).getTime() + 1000);
        const cases = await sql<EvaluationCase>(em, EVALUATION_SQL.cases, [options.sample, ctx.tenantId]);
        const [eligible] = await sql<{ n: number }>(em, `select count(*)::int as n from kk_heldout`);
        const rows = await scoreCases(scratch, deps, options, cases, asOf);
        const [replayed] = await sql<{ n: number }>(em, `select count(*)::int as n from kk_replay`);
        result = { k: options.k, replayedCustomers: replayed?.n ?? 0, eligibleCustomers: eligible?.n ?? 0, customers: cases.length, asOf: asOf.toISOString(), rows };
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
  heldout: string[];
  basket: string[];
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

interface Measure {
  hits: number;
  recall: number;
  ndcg: number;
}

/** Hit rate, recall and NDCG at k of each strategy (and each blend of FOR_CUSTOMER) over the cases. */
async function scoreCases(
  scratch: KokyakuContext,
  deps: { recommend: Recommend; recommendBlends: RecommendBlends },
  options: { k: number; strategies: Strategy[]; blends?: number[] },
  cases: readonly EvaluationCase[],
  asOf: Date,
): Promise<EvaluationRow[]> {
  const rows: EvaluationRow[] = [];
  const measure = (): Measure => ({ hits: 0, recall: 0, ndcg: 0 });
  const score = (m: Measure, list: string[], heldout: string[]) => {
    const relevant = new Set(heldout);
    const found = list.filter((id) => relevant.has(id)).length;
    if (found > 0) m.hits++;
    m.recall += found / relevant.size;
    let dcg = 0;
    list.forEach((id, i) => {
      if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
    });
    let ideal = 0;
    for (let i = 0; i < Math.min(relevant.size, options.k); i++) ideal += 1 / Math.log2(i + 2);
    m.ndcg += ideal > 0 ? dcg / ideal : 0;
  };
  const n = Math.max(cases.length, 1);
  const row = (strategy: Strategy, m: Measure, popularityWeight?: number): EvaluationRow => ({
    strategy,
    ...(popularityWeight === undefined ? {} : { popularityWeight }),
    hitRate: m.hits / n,
    recall: m.recall / n,
    ndcg: m.ndcg / n,
    customers: cases.length,
  });
  for (const strategy of options.strategies) {
    const m = measure();
    for (const c of cases) score(m, await deps.recommend(scratch, c.customer, c.basket, strategy, options.k, asOf), c.heldout);
    rows.push(row(strategy, m));
  }
  const blends = options.blends ?? [];
  if (blends.length > 0) {
    const ms = blends.map(measure);
    for (const c of cases) {
      const lists = await deps.recommendBlends(scratch, c.customer, options.k, asOf, blends);
      for (const [i, list] of lists.entries()) score(ms[i]!, list, c.heldout);
    }
    for (const [i, w] of blends.entries()) rows.push(row('FOR_CUSTOMER', ms[i]!, w));
  }
  return rows;
}
