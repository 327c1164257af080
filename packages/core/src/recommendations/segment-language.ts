import { productIds } from '../catalog/published.js';
import type { SegmentFunction } from '../module/segment-language.js';

const ofProducts = (condition: string) => (v: string) => `(r.product_id in (${productIds(condition.replace('$v', () => v))}))`;

/** MATCHES functions over what each customer is expected to buy again (`customer_product_cycles`). */
export const RECOMMENDATION_FUNCTIONS: readonly SegmentFunction[] = [
  {
    name: 'due_to_rebuy',
    description:
      "Products the customer bought and is expected to buy again: their last purchase plus their own interval between purchases of it (after two), else the product's repurchase cycle among all its buyers (BUY_AGAIN lists the same dates).",
    example: "due_to_rebuy MATCHES (product = 'coffee', date < +7d)",
    table: 'kokyaku.customer_product_cycles',
    filters: [
      { name: 'product', type: 'text', column: 'product_id', description: "the product's shop id", match: ofProducts('p.external_id = $v') },
      { name: 'category', type: 'text', column: 'product_id', description: 'one of the product categories', match: ofProducts('p.categories @> array[$v]') },
      { name: 'tag', type: 'text', column: 'product_id', description: 'one of the product tags', match: ofProducts('p.tags @> array[$v]') },
      { name: 'date', type: 'timestamp', column: 'due_at', description: 'when the next purchase is expected' },
    ],
    count: { description: 'number of products coming due (default >= 1)' },
  },
];
