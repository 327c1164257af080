import { defineModule } from '../module/module.js';
import { toMajorUnits } from '../shared/money.js';
import { sqlValue } from '../shared/sql.js';
import { ORDER_FUNCTIONS } from './segment-language.js';

/**
 * Orders and their lines. A merge moves the orders to the survivor; an erasure keeps them on the
 * anonymous row, so revenue and order counts keep adding up.
 */
export const ordersModule = defineModule({
  name: 'orders',
  tenantTables: ['order_lines', 'orders'],
  published: ['orders', 'order_lines'],
  customerTables: [{ table: 'orders', erase: 'custom', export: 'custom' }],
  segmentFunctions: ORDER_FUNCTIONS,
  timeline: [
    {
      kind: 'ORDER',
      at: 'o.placed_at',
      id: 'o.id',
      select: `null::text as actor_id, o.customer_id,
        jsonb_build_object('externalId', o.external_id, 'status', o.status, 'totalMinor', o.total_minor, 'currency', o.currency) as data`,
      from: 'kokyaku.orders o',
      where: ({ who }) => `o.tenant_id = $1 and ${who('o.customer_id')}`,
      present: (d, shop) => {
        const total = toMajorUnits(Number(d.totalMinor), String(d.currency));
        const money = new Intl.NumberFormat(shop.defaultCountry === 'JP' ? 'ja-JP' : 'en', { style: 'currency', currency: String(d.currency) }).format(total);
        return {
          summary: `Order ${d.externalId} ${d.status === 'CANCELLED' ? 'cancelled' : 'placed'}: ${money}`,
          data: { externalId: d.externalId, status: d.status, total, currency: d.currency },
        };
      },
    },
  ],
  hooks: {
    exportCustomer: async (ctx, customerId) => ({
      orders: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(to_jsonb(o) || jsonb_build_object('lines', (
                      select coalesce(jsonb_agg(jsonb_build_object('productExternalId', pr.external_id, 'productName', pr.name,
                                                                   'quantity', l.quantity, 'unitPriceMinor', l.unit_price_minor) order by l.position), '[]')
                      from kokyaku.order_lines l join kokyaku.products pr on pr.tenant_id = l.tenant_id and pr.id = l.product_id
                      where l.tenant_id = $1 and l.order_id = o.id)) order by o.placed_at), '[]') as v
             from kokyaku.orders o where o.tenant_id = $1 and o.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
