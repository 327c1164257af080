import { type InferEntity, defineEntity } from '@kokyaku/core';
import { ENTRY_KINDS } from './kinds.js';

/** One entry of the points ledger (table kokyaku.loyalty_ledger, made by the plugin's migration). */
export const LedgerEntrySchema = defineEntity({
  name: 'LoyaltyLedgerEntry',
  schema: 'kokyaku',
  tableName: 'loyalty_ledger',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.text(),
    customerId: p.bigint('string'),
    kind: p.enum([...ENTRY_KINDS]),
    points: p.integer(),
    orderId: p.bigint('string').nullable(),
    reason: p.text().nullable(),
    sourceKey: p.text(),
    expiresAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  }),
});

export type LedgerEntryEntity = InferEntity<typeof LedgerEntrySchema>;
