import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';
import type { AnalyticsService } from './analytics.service.js';
import { customersMerged, ordersChanged, refreshRollups } from './rollups.js';
import { SCORE_ATTRIBUTES } from './segment-language.js';

/** RFM scores and deciles per customer, and the shop's CLV models. */
export const analyticsModule = defineModule<{ analytics: AnalyticsService }>({
  name: 'analytics',
  tenantTables: ['report_rollups', 'customer_days', 'analytics_state', 'customer_scores'],
  published: ['customer_scores'],
  maintenance: { after: 'vacuum (analyze) kokyaku.customer_scores' },
  customerTables: [
    { table: 'customer_scores', merge: 'custom', erase: 'custom', export: 'custom' },
    // Purchase days follow the orders: added up on a merge, kept with the anonymised orders on an
    // erasure, and exported as the orders themselves.
    { table: 'customer_days', merge: 'custom', erase: 'custom', export: 'custom' },
  ],
  segmentAttributes: SCORE_ATTRIBUTES,
  hooks: {
    customersChanged: (ctx, { customerIds }, kokyaku) => kokyaku.analytics.scoreCustomers(ctx, customerIds),
    orderRecorded: (ctx, orders) => ordersChanged(ctx, [...new Set(orders.flatMap((o) => [o.customerId, o.before?.customerId ?? o.customerId]))]),
    customerMerged: (ctx, { survivorId, mergedIds }) => customersMerged(ctx, survivorId, mergedIds),
    exportCustomer: async (ctx, customerId) => ({
      scores: await sqlValue(ctx.em, `select to_jsonb(s) as v from kokyaku.customer_scores s where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, customerId]),
    }),
    refresh: async (ctx, run, kokyaku) => {
      await run.step('rollups', () => refreshRollups(ctx, run.requestedNow));
      await run.step('rfm', () => kokyaku.analytics.refreshScores(ctx, run.requestedNow));
      if (await run.step('clv', () => kokyaku.analytics.refreshClv(ctx, { now: run.requestedNow }))) run.count('clvFitted', 1);
    },
  },
});
