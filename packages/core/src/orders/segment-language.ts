import { productIds } from '../catalog/published.js';
import type { SegmentFunction } from '../module/segment-language.js';

const placedAt = { name: 'date', type: 'timestamp', column: 'placed_at', description: 'the order date' } as const;
const lineOf = (condition: string) => (v: string) => `(l.product_id in (${productIds(condition.replace('$v', () => v))}))`;

/** MATCHES functions over placed orders (`r`) and their lines (`l`). */
export const ORDER_FUNCTIONS: readonly SegmentFunction[] = [
  {
    name: 'products_purchased',
    description: 'Placed orders with lines of matching products.',
    example: "products_purchased MATCHES (category = 'coffee', date > -30d, count >= 2)",
    table: 'kokyaku.orders',
    join: 'join kokyaku.order_lines l on l.tenant_id = r.tenant_id and l.order_id = r.id',
    where: `r.status = 'PLACED'`,
    filters: [
      { name: 'product', type: 'text', column: 'product_id', description: "the product's shop id", match: lineOf('p.external_id = $v') },
      { name: 'category', type: 'text', column: 'product_id', description: 'one of the product categories', match: lineOf('p.categories @> array[$v]') },
      { name: 'tag', type: 'text', column: 'product_id', description: 'one of the product tags', match: lineOf('p.tags @> array[$v]') },
      placedAt,
    ],
    count: { sql: 'count(distinct r.id)', description: 'number of orders with a matching line (default >= 1)' },
    totals: [{ name: 'sum_quantity', type: 'integer', sql: 'sum(l.quantity)', description: 'total quantity of the matching lines' }],
  },
  {
    name: 'orders_placed',
    description: 'Placed orders.',
    example: 'orders_placed MATCHES (date > -90d, amount >= 5000, count >= 2)',
    table: 'kokyaku.orders',
    where: `r.status = 'PLACED'`,
    filters: [placedAt, { name: 'amount', type: 'money', column: 'total_minor', description: "one order's amount" }],
    count: { description: 'number of matching orders (default >= 1)' },
    totals: [{ name: 'sum_amount', type: 'money', sql: 'sum(r.total_minor)', description: 'total amount of the matching orders' }],
  },
];
