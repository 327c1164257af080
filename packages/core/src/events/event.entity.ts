import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A storefront event (product viewed, added to cart, ...), idempotent on the shop's `eventId`. */
export const EventSchema = defineEntity({
  name: 'Event',
  schema: 'kokyaku',
  tableName: 'events',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    tenantId: p.text(),
    eventId: p.text(),
    type: p.text(),
    customerId: p.bigint('number').nullable(),
    productId: p.bigint('number').nullable(),
    occurredAt: p.datetime(),
    properties: p.json<Record<string, unknown>>().columnType('jsonb').defaultRaw(`'{}'`),
    receivedAt: p.datetime().defaultRaw('now()'),
  }),
  uniques: [{ properties: ['tenantId', 'eventId'], name: 'event_tenant_event_unique' }],
});

export type Event = InferEntity<typeof EventSchema>;
