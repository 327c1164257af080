import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const ORDER_STATUSES = ['PLACED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** An order as the shop recorded it, mirrored by the shop's own id (`externalId`). */
export const OrderSchema = defineEntity({
  name: 'Order',
  schema: 'kokyaku',
  tableName: 'orders',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    tenantId: p.text(),
    externalId: p.text(),
    customerId: p.bigint('number').index('order_customer_idx'),
    placedAt: p.datetime(),
    currency: p.string().length(3),
    status: p.enum(() => ({ PLACED: 'PLACED', CANCELLED: 'CANCELLED' })).columnType('text'),
    /** Sum of quantity x unit price over the lines, in minor units of `currency`. */
    totalMinor: p.bigint('number'),
    /** Digest of the lines, so a re-recorded identical order is recognised as unchanged. */
    linesDigest: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
  uniques: [{ properties: ['tenantId', 'externalId'], name: 'order_tenant_external_unique' }],
});

export type Order = InferEntity<typeof OrderSchema>;

export const OrderLineSchema = defineEntity({
  name: 'OrderLine',
  schema: 'kokyaku',
  tableName: 'order_lines',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    tenantId: p.text(),
    orderId: p.bigint('number'),
    /** 0-based position of the line in the order as the shop sent it. */
    position: p.integer(),
    productId: p.bigint('number'),
    quantity: p.integer(),
    unitPriceMinor: p.bigint('number'),
  }),
});

export type OrderLine = InferEntity<typeof OrderLineSchema>;
