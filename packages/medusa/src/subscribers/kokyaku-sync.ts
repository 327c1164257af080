import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { KokyakuMedusa } from '../kokyaku.js';

/** Medusa events and the outbox rows they become (the row names a record; its state is read on delivery). */
const ROWS: Record<string, (id: string) => { kind: string; ref: string }> = {
  'customer.created': (id) => ({ kind: 'customer', ref: id }),
  'customer.updated': (id) => ({ kind: 'customer', ref: id }),
  'customer.deleted': (id) => ({ kind: 'erase', ref: id }),
  'product.created': (id) => ({ kind: 'product', ref: id }),
  'product.updated': (id) => ({ kind: 'product', ref: id }),
  'product.deleted': (id) => ({ kind: 'product', ref: id }),
  'product-variant.created': (id) => ({ kind: 'variant', ref: id }),
  'product-variant.updated': (id) => ({ kind: 'variant', ref: id }),
  'product-variant.deleted': (id) => ({ kind: 'variant', ref: id }),
  'order.placed': (id) => ({ kind: 'order', ref: id }),
  'order.updated': (id) => ({ kind: 'order', ref: id }),
  'order.canceled': (id) => ({ kind: 'order', ref: id }),
  'order.completed': (id) => ({ kind: 'order', ref: id }),
  'order.return_received': (id) => ({ kind: 'order', ref: id }),
  'order-edit.confirmed': (id) => ({ kind: 'order', ref: id }),
  'cart.created': (id) => ({ kind: 'cart', ref: id }),
  'cart.updated': (id) => ({ kind: 'cart', ref: id }),
  'cart.customer_updated': (id) => ({ kind: 'cart', ref: id }),
};

/** Every event's ids, whatever shape its data has (`{ id }`, `{ ids }`, `{ order_id }`). */
function idsOf(data: unknown): string[] {
  const items = Array.isArray(data) ? data : [data];
  const out: string[] = [];
  for (const d of items as Array<Record<string, unknown>>) {
    if (!d) continue;
    const id = d.order_id ?? d.id;
    if (typeof id === 'string') out.push(id);
    if (Array.isArray(d.ids)) out.push(...d.ids.filter((x): x is string => typeof x === 'string'));
  }
  return out;
}

export default async function kokyakuSync({ event, container }: SubscriberArgs<unknown>): Promise<void> {
  const row = ROWS[event.name];
  if (!row) return;
  const kokyaku = await KokyakuMedusa.from(container);
  await kokyaku.enqueue(idsOf(event.data).map(row));
}

export const config: SubscriberConfig = { event: Object.keys(ROWS), context: { subscriberId: 'kokyaku-sync' } };
