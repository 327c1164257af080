import { defineModule } from '../module/module.js';
import { sql, sqlValue } from '../shared/sql.js';

/** Consent records: kept through erasure (marked erased), moved by a merge. */
export const privacyModule = defineModule({
  name: 'privacy',
  tenantTables: ['consents'],
  customerTables: [{ table: 'consents', erase: 'custom', export: 'custom' }],
  hooks: {
    customerErased: async (ctx, customerId) => {
      await sql(ctx.em, `update kokyaku.consents set source = 'erased' where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, customerId]);
    },
    exportCustomer: async (ctx, customerId) => ({
      consents: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(to_jsonb(c) order by c.recorded_at, c.id), '[]') as v from kokyaku.consents c where tenant_id = $1 and customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
