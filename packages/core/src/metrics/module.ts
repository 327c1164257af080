import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';
import type { MetricsService } from './metrics.service.js';
import { FACTS_ATTRIBUTES } from './segment-language.js';

/** Each customer's derived figures (orders, revenue, dates): recomputed, never moved or blanked. */
export const metricsModule = defineModule<{ metrics: MetricsService }>({
  name: 'metrics',
  tenantTables: ['customer_facts'],
  published: ['customer_facts'],
  // A refresh may rewrite many facts rows: reclaim the old versions and refresh the visibility
  // map and statistics now, so that segment counts stay index-only scans right away.
  maintenance: { after: 'vacuum (analyze) kokyaku.customer_facts' },
  customerTables: [{ table: 'customer_facts', merge: 'custom', erase: 'custom', export: 'custom' }],
  segmentAttributes: FACTS_ATTRIBUTES,
  hooks: {
    exportCustomer: async (ctx, customerId) => ({
      facts: await sqlValue(ctx.em, `select to_jsonb(f) as v from kokyaku.customer_facts f where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, customerId]),
    }),
    refresh: async (ctx, run, kokyaku) => {
      run.count('customers', (await run.step('metrics', () => kokyaku.metrics.refresh(ctx)))?.customers ?? 0);
    },
  },
});
