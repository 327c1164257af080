import { defineModule } from '../module/module.js';
import { sql, sqlValue } from '../shared/sql.js';

/** Storefront events. A merge moves them; an erasure keeps them (figures stay right) but empties their properties. */
export const eventsModule = defineModule({
  name: 'events',
  tenantTables: ['events'],
  customerTables: [{ table: 'events', erase: 'custom', export: 'custom' }],
  hooks: {
    customerErased: async (ctx, customerId) => {
      await sql(ctx.em, `update kokyaku.events set properties = '{}' where tenant_id = $1 and customer_id = $2::bigint and properties <> '{}'`, [ctx.tenantId, customerId]);
    },
    exportCustomer: async (ctx, customerId) => ({
      events: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(to_jsonb(e) order by e.occurred_at), '[]') as v from kokyaku.events e where tenant_id = $1 and customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
