import { HookDispatcher } from '../module/hooks.js';
import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { type BatchItemError, type BatchResult, emptyResult, lastPerKey, validateBatch } from '../ingestion/batch.js';
import { ensureCustomers } from '../customers/placeholders.js';
import { ensureProducts } from '../catalog/placeholders.js';
import { sql, transaction } from '../shared/sql.js';
import { externalIdSchema, instantSchema, jsonObject } from '../shared/validation.js';

export interface EventInput {
  /** The shop's (or the tracker's) unique id of this event; sending it again is a no-op. */
  eventId: string;
  /** e.g. product_viewed, added_to_cart, searched, page_viewed */
  type: string;
  customerExternalId?: string | null;
  productExternalId?: string | null;
  occurredAt: Date | string;
  properties?: Record<string, unknown> | null;
}

const eventSchema = z.strictObject({
  eventId: externalIdSchema,
  type: z
    .string({ error: 'Required: an event type such as product_viewed.' })
    .trim()
    .min(1, 'Must not be empty.')
    .max(100, 'At most 100 characters.')
    .regex(/^[A-Za-z0-9_.:-]+$/, 'Use letters, digits, "_", ".", ":" or "-" (e.g. product_viewed).'),
  customerExternalId: externalIdSchema.nullable().optional(),
  productExternalId: externalIdSchema.nullable().optional(),
  occurredAt: instantSchema,
  properties: jsonObject.nullable().optional(),
});

const INSERT_EVENTS = `
  insert into kokyaku.events (tenant_id, event_id, type, customer_id, product_id, occurred_at, properties)
  select $1, e."eventId", e.type, e."customerId", e."productId", e."occurredAt", coalesce(e.properties, '{}'::jsonb)
  from jsonb_to_recordset($2::jsonb) as e("eventId" text, type text, "customerId" bigint, "productId" bigint, "occurredAt" timestamptz, properties jsonb)
  on conflict (tenant_id, event_id) do nothing
  returning id::text as id, customer_id::text as customer_id, type`;

export class EventService {
  constructor(private readonly hooks: HookDispatcher = new HookDispatcher([])) {}

  /**
   * Stores storefront events, idempotent on `eventId` (an event is immutable: sending the same id
   * again, even with other content, stores nothing new).
   */
  /** The errors `track` would report for these items, writing nothing (import dry runs). */
  validate(_ctx: KokyakuContext, events: readonly unknown[]): BatchItemError[] {
    return validateBatch(events, eventSchema, 'eventId').errors;
  }

  async track(ctx: KokyakuContext, events: readonly EventInput[]): Promise<BatchResult> {
    const { valid, errors } = validateBatch(events, eventSchema, 'eventId');
    const result = emptyResult(events.length, errors);
    // The first occurrence of an id wins, as it would had the duplicate come in a later batch.
    const items = lastPerKey([...valid].reverse(), (e) => e.eventId).reverse();
    if (items.length === 0) return result;
    await transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const newCustomerIds: string[] = [];
      const customerIds = await ensureCustomers(
        tx,
        items.flatMap((i) => (i.value.customerExternalId ? [i.value.customerExternalId] : [])),
        newCustomerIds,
      );
      const productIds = await ensureProducts(
        tx,
        items.flatMap((i) => (i.value.productExternalId ? [i.value.productExternalId] : [])),
      );
      const docs = items.map(({ value: e }) => ({
        eventId: e.eventId,
        type: e.type,
        customerId: e.customerExternalId ? customerIds.get(e.customerExternalId) : null,
        productId: e.productExternalId ? productIds.get(e.productExternalId) : null,
        occurredAt: e.occurredAt.toISOString(),
        properties: e.properties ?? {},
      }));
      const inserted = await sql<{ id: string; customer_id: string | null; type: string }>(em, INSERT_EVENTS, [ctx.tenantId, JSON.stringify(docs)]);
      result.created = inserted.length;
      result.unchanged -= result.created;
      const types = new Map<string, Set<string>>();
      for (const r of inserted) {
        if (r.customer_id) types.set(r.customer_id, (types.get(r.customer_id) ?? new Set()).add(r.type));
      }
      await this.hooks.eventsTracked(tx, { customerIds: [...types.keys()], newCustomerIds, types, eventIds: inserted.filter((r) => r.customer_id).map((r) => r.id) });
    });
    return result;
  }
}
