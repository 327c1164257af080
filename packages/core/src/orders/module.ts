import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';

/**
 * Orders and their lines. A merge moves the orders to the survivor; an erasure keeps them on the
 * anonymous row, so revenue and order counts keep adding up.
 */
export const ordersModule = defineModule({
  name: 'orders',
  tenantTables: ['order_lines', 'orders'],
  customerTables: [{ table: 'orders', erase: 'custom', export: 'custom' }],
  hooks: {
    exportCustomer: async (ctx, customerId) => ({
      orders: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(to_jsonb(o) || jsonb_build_object('lines', (
                      select coalesce(jsonb_agg(jsonb_build_object('productExternalId', pr.external_id, 'productName', pr.name,
                                                                   'quantity', l.quantity, 'unitPriceMinor', l.unit_price_minor) order by l.position), '[]')
                      from kokyaku.order_lines l join kokyaku.products pr on pr.id = l.product_id
                      where l.tenant_id = $1 and l.order_id = o.id)) order by o.placed_at), '[]') as v
             from kokyaku.orders o where o.tenant_id = $1 and o.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
