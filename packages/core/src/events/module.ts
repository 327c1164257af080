import { defineModule } from '../module/module.js';
import { sql, sqlValue } from '../shared/sql.js';
import { EVENT_FUNCTIONS } from './segment-language.js';

/** Storefront events. A merge moves them; an erasure keeps them (figures stay right) but empties their properties. */
export const eventsModule = defineModule({
  name: 'events',
  tenantTables: ['events'],
  published: ['events'],
  customerTables: [{ table: 'events', erase: 'custom', export: 'custom' }],
  segmentFunctions: EVENT_FUNCTIONS,
  timeline: [
    {
      kind: 'EVENT',
      at: 'e.occurred_at',
      id: 'e.id',
      select: `null::text as actor_id, e.customer_id,
        jsonb_build_object('eventId', e.event_id, 'type', e.type, 'productExternalId', p.external_id, 'properties', e.properties) as data`,
      from: 'kokyaku.events e left join kokyaku.products p on p.tenant_id = e.tenant_id and p.id = e.product_id',
      where: ({ who }) => `e.tenant_id = $1 and ${who('e.customer_id')}`,
      present: (d) => ({ summary: `${d.type}${d.productExternalId ? ` ${d.productExternalId}` : ''}` }),
    },
  ],
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
