import type { ProductInput, ProductService } from '../catalog/product.service.js';
import type { KokyakuContext } from '../shared/context.js';
import type { CustomerInput, CustomerService } from '../customers/customer.service.js';
import type { EventInput, EventService } from '../events/event.service.js';
import type { PrivacyService } from '../privacy/privacy.service.js';
import type { OrderInput, OrderService } from '../orders/order.service.js';
import { KokyakuError } from '../shared/errors.js';

/**
 * What a shop connector (the Vendure plugin, the Medusa plugin, your own) sends Kokyaku in one go:
 * the current state of some records of the shop, keyed by the shop's ids, and the customers the
 * shop deleted. `writeShopBatch` stores it in Kokyaku's batch calls; `runBackfill` walks a shop's
 * whole history through it.
 */
export interface ShopBatch {
  customers: CustomerInput[];
  products: ProductInput[];
  orders: OrderInput[];
  events: EventInput[];
  /** Shop ids of customers deleted in the shop: erased in Kokyaku. */
  erase: string[];
}

export type ShopRecordKind = 'customer' | 'product' | 'order' | 'event';

export interface ShopBatchResult {
  customers: number;
  products: number;
  orders: number;
  events: number;
  erased: number;
  /** Records Kokyaku refused, by the shop's id (an event by its event id), with the reason. */
  refused: Array<{ kind: ShopRecordKind; ref: string; message: string }>;
  /** Records stored without an optional field Kokyaku could not read (a phone number in free text). */
  warnings: string[];
}

/**
 * Store a batch of shop records: customers first (orders and events then find them), products,
 * orders, events, erasures. Ingestion is idempotent on the shop's ids, so a batch sent twice
 * changes nothing. A customer refused for an optional field (shops take any text as a phone
 * number) is stored without that field, with a warning, rather than not at all. A deleted customer
 * Kokyaku never heard of is nothing to erase. Other failures (the database away) throw.
 */
/** The services a shop batch is written through (a Kokyaku instance has them all). */
export interface ShopWriter {
  customers: CustomerService;
  products: ProductService;
  orders: OrderService;
  events: EventService;
  privacy: PrivacyService;
}

export async function writeShopBatch(kokyaku: ShopWriter, ctx: KokyakuContext, batch: Partial<ShopBatch>, options: { erasureReason?: string } = {}): Promise<ShopBatchResult> {
  const result: ShopBatchResult = { customers: 0, products: 0, orders: 0, events: 0, erased: 0, refused: [], warnings: [] };
  const report = (
    kind: ShopRecordKind,
    items: ReadonlyArray<{ externalId?: string; eventId?: string }>,
    errors: ReadonlyArray<{ index: number; field: string; message: string }>,
  ) => {
    for (const e of errors) {
      const ref = String(items[e.index]?.externalId ?? items[e.index]?.eventId);
      result.refused.push({ kind, ref, message: `${kind} ${ref}: ${e.field}: ${e.message}` });
    }
    return items.length - new Set(errors.map((e) => e.index)).size;
  };
  const { customers = [], products = [], orders = [], events = [], erase = [] } = batch;
  if (customers.length) result.customers = report('customer', customers, await upsertCustomers(kokyaku, ctx, customers, result.warnings));
  if (products.length) result.products = report('product', products, (await kokyaku.products.upsert(ctx, products)).errors);
  if (orders.length) result.orders = report('order', orders, (await kokyaku.orders.record(ctx, orders)).errors);
  if (events.length) result.events = report('event', events, (await kokyaku.events.track(ctx, events)).errors);
  for (const externalId of erase) {
    try {
      await kokyaku.privacy.eraseCustomer(ctx, { externalId }, { reason: options.erasureReason ?? 'Customer deleted in the shop' });
      result.erased++;
    } catch (error) {
      if (!(error instanceof KokyakuError && error.code === 'NOT_FOUND')) throw error;
    }
  }
  return result;
}

async function upsertCustomers(kokyaku: ShopWriter, ctx: KokyakuContext, customers: readonly CustomerInput[], warnings: string[]) {
  const { errors } = await kokyaku.customers.upsert(ctx, customers);
  const optional = errors.filter((e) => e.field !== 'externalId' && e.field !== '' && e.field in (customers[e.index] ?? {}));
  if (optional.length === 0) return errors;
  const retry = new Map<number, CustomerInput>();
  for (const e of optional) {
    const item = { ...(retry.get(e.index) ?? customers[e.index]!) };
    delete (item as Record<string, unknown>)[e.field];
    retry.set(e.index, item);
    warnings.push(`customer ${item.externalId} stored without ${e.field}: ${e.message}`);
  }
  const indexes = [...retry.keys()];
  const second = await kokyaku.customers.upsert(ctx, [...retry.values()]);
  return [...errors.filter((e) => !retry.has(e.index)), ...second.errors.map((e) => ({ ...e, index: indexes[e.index]! }))];
}
