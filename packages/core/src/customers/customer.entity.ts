import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A customer as the shop knows them, mirrored by the shop's own id (`externalId`). */
export const CustomerSchema = defineEntity({
  name: 'Customer',
  schema: 'kokyaku',
  tableName: 'customers',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    tenantId: p.text(),
    externalId: p.text(),
    email: p.text().nullable(),
    /** E.164 when the number could be read, e.g. +819012345678. */
    phone: p.text().nullable(),
    firstName: p.text().nullable(),
    lastName: p.text().nullable(),
    /** Kana readings of the names (フリガナ). */
    firstNameKana: p.text().nullable(),
    lastNameKana: p.text().nullable(),
    /** YYYY-MM-DD */
    birthday: p.date().nullable(),
    city: p.text().nullable(),
    region: p.text().nullable(),
    country: p.text().nullable(),
    tags: p.array().columnType('text[]').default('{}'),
    customFields: p.json<Record<string, unknown>>().columnType('jsonb').defaultRaw(`'{}'`),
    emailConsent: p.boolean().default(false),
    /** Created from an order or event before the customer record itself was sent. */
    placeholder: p.boolean().default(false),
    /** When the customer joined the shop (as the shop said), else when Kokyaku first heard of them. */
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
  uniques: [{ properties: ['tenantId', 'externalId'], name: 'customer_tenant_external_unique' }],
});

export type Customer = InferEntity<typeof CustomerSchema>;
