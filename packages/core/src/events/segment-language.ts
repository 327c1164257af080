import { productIds } from '../catalog/published.js';
import type { SegmentFunction } from '../module/segment-language.js';

/** `events MATCHES (...)`: the customer's storefront events (`r`). */
export const EVENT_FUNCTIONS: readonly SegmentFunction[] = [
  {
    name: 'events',
    description: 'Storefront events of the customer.',
    example: "events MATCHES (type = 'product_viewed', product = 'SKU-1', date > -7d, count >= 3)",
    table: 'kokyaku.events',
    where: 'r.customer_id is not null',
    filters: [
      { name: 'type', type: 'text', column: 'type', description: 'the event type' },
      {
        name: 'product',
        type: 'text',
        column: 'product_id',
        description: "the product's shop id",
        match: (v) => `(r.product_id in (${productIds(`p.external_id = ${v}`)}))`,
      },
      { name: 'date', type: 'timestamp', column: 'occurred_at', description: 'when the event happened' },
    ],
    count: { description: 'number of matching events (default >= 1)' },
    activity: true,
  },
];
