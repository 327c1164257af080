import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A product as the shop knows it, mirrored by the shop's own id (`externalId`). */
export const ProductSchema = defineEntity({
  name: 'Product',
  schema: 'kokyaku',
  tableName: 'products',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    tenantId: p.text(),
    externalId: p.text(),
    name: p.text(),
    /** Price in integer minor units of `currency`; null when the shop did not give one. */
    priceMinor: p.bigint('number').nullable(),
    currency: p.string().length(3),
    categories: p.array().columnType('text[]').default('{}'),
    tags: p.array().columnType('text[]').default('{}'),
    inStock: p.boolean().default(true),
    /** Created from an order line or event before the product itself was sent. */
    placeholder: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  }),
  uniques: [{ properties: ['tenantId', 'externalId'], name: 'product_tenant_external_unique' }],
});

export type Product = InferEntity<typeof ProductSchema>;
