import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';

/**
 * The audit log: who read or changed whose personal data. It never moves or empties with a
 * merge or an erasure (the erasure itself is its last entry about the customer); the customer's
 * data export lists it as `accessLog`.
 */
export const auditModule = defineModule({
  name: 'audit',
  tenantTables: ['audit_log'],
  customerTables: [{ table: 'audit_log', merge: 'custom', erase: 'custom', export: 'custom' }],
  hooks: {
    exportCustomer: async (ctx, customerId) => ({
      accessLog: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'actorId', a.actor_id, 'action', a.action, 'fields', a.fields) order by a.id), '[]') as v
         from kokyaku.audit_log a where a.tenant_id = $1 and a.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
