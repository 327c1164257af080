import type { CustomerInput, EventInput, OrderInput, ProductInput } from '@kokyaku/core';
import type { Customer, Order, ProductVariant } from '@vendure/core';

/**
 * Vendure records -> Kokyaku inputs. Ids are Vendure's own (as strings), so a record delivered
 * twice, by live sync and by the backfill, is the same record in Kokyaku.
 */

/** Vendure stores money in minor units; Kokyaku's inputs take major units. */
export function major(minor: number, digits: number): number {
  return Number((minor / 10 ** digits).toFixed(digits));
}

/** A translatable record's name: translated already, or its first translation's. */
function label(x: { name?: unknown; translations?: Array<{ name?: unknown }> }): string | null {
  const name = typeof x.name === 'string' && x.name ? x.name : x.translations?.find((t) => typeof t.name === 'string' && t.name)?.name;
  return typeof name === 'string' ? name : null;
}

export function customerInput(c: Customer): CustomerInput {
  const address = c.addresses?.find((a) => a.defaultShippingAddress) ?? c.addresses?.[0];
  return {
    externalId: String(c.id),
    email: c.emailAddress || null,
    phone: c.phoneNumber || null,
    firstName: c.firstName || null,
    lastName: c.lastName || null,
    city: address?.city || null,
    region: address?.province || null,
    country: address?.country?.code?.toUpperCase() || null,
    createdAt: c.createdAt,
  };
}

/** A variant is a product in Kokyaku: what customers buy, recommend and segment by. */
export function productInput(v: ProductVariant, options: { digits: number; saleable: number | null }): ProductInput {
  // Collections by name, then facet values as "facet: value", each sorted: the same variant gives the same list.
  const collections = new Set<string>();
  for (const collection of v.collections ?? []) {
    const name = label(collection);
    if (!collection.isPrivate && !collection.isRoot && name) collections.add(name);
  }
  const facets = new Set<string>();
  for (const value of [...(v.product?.facetValues ?? []), ...(v.facetValues ?? [])]) {
    const facet = value.facet && label(value.facet);
    const name = label(value);
    if (facet && name) facets.add(`${facet}: ${name}`);
  }
  const categories = [...[...collections].sort(), ...[...facets].sort()];
  const name = v.name || v.product?.name || v.sku || `Variant ${v.id}`;
  return {
    externalId: String(v.id),
    name,
    price: typeof v.priceWithTax === 'number' ? major(v.priceWithTax, options.digits) : null,
    categories: categories.slice(0, 50),
    tags: v.sku ? [`sku:${v.sku}`] : [],
    inStock: v.enabled && !v.deletedAt && (options.saleable === null || options.saleable > 0),
  };
}

/**
 * An order as Kokyaku counts it: its lines at the price the customer pays for them (with tax,
 * order-level discounts spread over the lines; shipping is no product and is left out).
 * - Cancelled lines are gone (Vendure lowers their quantity); a cancelled order is CANCELLED.
 * - Money the shop refunded without cancelling lines lowers the lines' prices in proportion, so
 *   the order counts what the customer paid net of refunds.
 * Returns null for orders that are not placed (carts) and for sellers' sub-orders of a
 * multi-vendor order (the aggregate order counts once).
 */
export function orderInput(o: Order, digits: number): OrderInput | null {
  if (!o.orderPlacedAt || o.type === 'Seller' || !o.customerId) return null;
  const cancelled = o.state === 'Cancelled';
  const lines = (o.lines ?? [])
    .map((l) => ({ id: String(l.productVariantId), quantity: cancelled ? l.orderPlacedQuantity || l.quantity : l.quantity, unit: l.proratedUnitPriceWithTax }))
    .filter((l) => l.quantity > 0);
  if (lines.length === 0) {
    // Every line cancelled without the order's state following: nothing left to count.
    const any = (o.lines ?? [])[0];
    if (!any) return null;
    lines.push({ id: String(any.productVariantId), quantity: Math.max(1, any.orderPlacedQuantity), unit: any.proratedUnitPriceWithTax });
    return build(o, lines, 'CANCELLED', digits);
  }
  let factor = 1;
  const refunded = (o.payments ?? [])
    .flatMap((p) => p.refunds ?? [])
    .filter((r) => r.state === 'Settled')
    .reduce((s, r) => s + r.total, 0);
  if (!cancelled && refunded > 0) {
    const paid = (o.payments ?? []).filter((p) => p.state === 'Settled' || p.state === 'Authorized').reduce((s, p) => s + p.amount, 0);
    const goods = lines.reduce((s, l) => s + l.quantity * l.unit, 0);
    if (goods > 0) factor = Math.max(0, Math.min(1, (paid - refunded - (o.shippingWithTax ?? 0)) / goods));
  }
  const scaled = factor === 1 ? lines : lines.map((l) => ({ ...l, unit: Math.round(l.unit * factor) }));
  return build(o, scaled, cancelled ? 'CANCELLED' : 'PLACED', digits);
}

function build(o: Order, lines: { id: string; quantity: number; unit: number }[], status: 'PLACED' | 'CANCELLED', digits: number): OrderInput {
  // Kokyaku keeps one line per product: Vendure can hold the same variant on two lines (custom fields).
  const merged = new Map<string, { quantity: number; minor: number }>();
  for (const l of lines) {
    const m = merged.get(l.id) ?? { quantity: 0, minor: 0 };
    m.quantity += l.quantity;
    m.minor += l.quantity * l.unit;
    merged.set(l.id, m);
  }
  return {
    externalId: String(o.id),
    customerExternalId: String(o.customerId),
    placedAt: o.orderPlacedAt!,
    currency: o.currencyCode,
    status,
    lines: [...merged].map(([id, m]) => ({
      productExternalId: id,
      quantity: m.quantity,
      // Two lines of one variant at different prices: their average, rounded to the minor unit.
      unitPrice: major(Math.round(m.minor / m.quantity), digits),
    })),
  };
}

/** A storefront event the plugin saw (cart changes) or was told of (product views). */
export function eventInput(id: number | string, customerId: string, payload: Record<string, unknown>): EventInput {
  return {
    eventId: `vendure-${id}`,
    type: String(payload.type),
    customerExternalId: customerId,
    productExternalId: payload.productVariantId ? String(payload.productVariantId) : null,
    occurredAt: String(payload.occurredAt),
    properties: (payload.properties as Record<string, unknown> | undefined) ?? {},
  };
}
