import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * Derived per-customer figures, kept current on every ingested order (cancelled orders excluded)
 * and recomputable from the orders at any time (`refresh`).
 */
export const CustomerMetricsSchema = defineEntity({
  name: 'CustomerMetrics',
  schema: 'kokyaku',
  tableName: 'customer_metrics',
  properties: (p) => ({
    customerId: p.bigint('number').primary(),
    tenantId: p.text(),
    ordersCount: p.integer().default(0),
    /** Sum of the placed orders' amounts, in minor units of the shop currency. */
    totalSpentMinor: p.bigint('number').default(0),
    firstOrderAt: p.datetime().nullable(),
    lastOrderAt: p.datetime().nullable(),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
});

export type CustomerMetrics = InferEntity<typeof CustomerMetricsSchema>;
