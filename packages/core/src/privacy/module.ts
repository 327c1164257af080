import { defineModule } from '../module/module.js';
import { sql, sqlValue } from '../shared/sql.js';

/** Consent records and the audit log: kept through erasure (consent marked erased), the log never moves. */
export const privacyModule = defineModule({
  name: 'privacy',
  tenantTables: ['audit_log', 'consents'],
  customerTables: [
    { table: 'consents', erase: 'custom', export: 'custom' },
    { table: 'audit_log', merge: 'custom', erase: 'custom', export: 'custom' },
  ],
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
      accessLog: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'actorId', a.actor_id, 'action', a.action, 'fields', a.fields) order by a.id), '[]') as v
         from kokyaku.audit_log a where a.tenant_id = $1 and a.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
