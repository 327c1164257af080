import { defineModule } from '../module/module.js';
import { sql, sqlValue } from '../shared/sql.js';
import type { RecommendationService } from './recommendation.service.js';
import { RECOMMENDATION_FUNCTIONS } from './segment-language.js';

/**
 * What each customer bought, as the recommender keeps it, and the shop-wide counts and neighbour
 * lists built from it. Orders feed it as they are recorded; a merge adds the histories up.
 */
export const recommendationsModule = defineModule<{ recommendations: RecommendationService }>({
  name: 'recommendations',
  tenantTables: [
    'customer_product_changes',
    'product_neighbours_stale',
    'product_neighbours',
    'product_pairs',
    'product_daily',
    'product_stats',
    'customer_products',
    'recommendation_state',
  ],
  // After a day of bulk loads the planner's row counts are stale, and the rebuild's joins of
  // orders and lines then took a nested loop (51 s each instead of 0.2-0.4 s for 180,000 lines).
  segmentFunctions: RECOMMENDATION_FUNCTIONS,
  // After it, the rebuilt lists: a request looks its seeds' lists up by key only once the planner
  // knows how many there are (a scan of every list otherwise: 225 ms a request on a 12,000-product shop).
  maintenance: {
    before: 'analyze kokyaku.orders, kokyaku.order_lines, kokyaku.customer_products',
    after: 'analyze kokyaku.product_neighbours, kokyaku.product_stats, kokyaku.product_daily',
  },
  customerTables: [
    { table: 'customer_product_changes', erase: 'custom', export: 'custom' },
    { table: 'customer_products', merge: 'custom', erase: 'custom', export: 'custom' },
  ],
  hooks: {
    orderRecorded: (ctx, orders, kokyaku) => kokyaku.recommendations.ordersChanged(ctx, orders),
    customerMerged: async (ctx, { survivorId, mergedIds }) => {
      // Added up per product.
      await sql(
        ctx.em,
        `insert into kokyaku.customer_products as cp (customer_id, product_id, tenant_id, orders, quantity, first_at, last_at)
         select $2::bigint, product_id, $1, sum(orders), sum(quantity), min(first_at), max(last_at)
         from kokyaku.customer_products where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($3::jsonb)) group by product_id
         on conflict (customer_id, product_id, tenant_id) do update set orders = cp.orders + excluded.orders, quantity = cp.quantity + excluded.quantity,
           first_at = least(cp.first_at, excluded.first_at), last_at = greatest(cp.last_at, excluded.last_at)`,
        [ctx.tenantId, survivorId, JSON.stringify(mergedIds)],
      );
    },
    exportCustomer: async (ctx, customerId) => ({
      purchasedProducts: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(jsonb_build_object('productExternalId', pr.external_id, 'orders', cp.orders, 'quantity', cp.quantity,
                                                      'firstAt', cp.first_at, 'lastAt', cp.last_at) order by pr.external_id), '[]') as v
         from kokyaku.customer_products cp join kokyaku.products pr on pr.tenant_id = cp.tenant_id and pr.id = cp.product_id where cp.tenant_id = $1 and cp.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
    refresh: async (ctx, run, kokyaku) => {
      await run.step('recommendations', () => kokyaku.recommendations.refresh(ctx));
      await run.step('recommendation blend', () => kokyaku.recommendations.tuneBlend(ctx, { ifStale: true }));
    },
  },
});
