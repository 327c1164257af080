import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * One narrow row per customer with what segments filter on most: the order metrics (kept current
 * on every recorded order; cancelled orders never count) and copies of the small profile values
 * (kept in step with every customer upsert).
 */
export const CustomerFactsSchema = defineEntity({
  name: 'CustomerFacts',
  schema: 'kokyaku',
  tableName: 'customer_facts',
  properties: (p) => ({
    customerId: p.bigint('number').primary(),
    tenantId: p.text(),
    ordersCount: p.integer().default(0),
    /** Minor units of the shop currency. */
    totalSpentMinor: p.bigint('number').default(0),
    averageOrderValueMinor: p.bigint('number').default(0),
    firstOrderAt: p.datetime().nullable(),
    lastOrderAt: p.datetime().nullable(),
    addedAt: p.datetime(),
    emailConsent: p.boolean().default(false),
    country: p.text().nullable(),
    region: p.text().nullable(),
    city: p.text().nullable(),
    emailDomain: p.text().nullable(),
    birthday: p.date().nullable(),
    birthdayMmdd: p.smallint().nullable().persist(false),
    tags: p.array().columnType('text[]').default('{}'),
  }),
});

export type CustomerFacts = InferEntity<typeof CustomerFactsSchema>;
