import { type CustomerInput, type OrderInput, type ProductInput, currencyDigits } from '@kokyaku/core';

/**
 * Medusa records (as `query.graph` returns them) -> Kokyaku inputs. Ids are Medusa's own, so a
 * record delivered twice, by live sync and by the backfill, is the same record in Kokyaku.
 * Medusa v2 keeps money in major units (12.5 = 12.50).
 */

export interface MedusaCustomer {
  id: string;
  email?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  created_at?: string | Date | null;
  deleted_at?: string | Date | null;
  addresses?: Array<{ city?: string | null; province?: string | null; country_code?: string | null; is_default_shipping?: boolean | null }> | null;
}

export interface MedusaVariant {
  id: string;
  title?: string | null;
  sku?: string | null;
  manage_inventory?: boolean | null;
  allow_backorder?: boolean | null;
  deleted_at?: string | Date | null;
  prices?: Array<{ amount: number | string; currency_code: string }> | null;
  inventory_items?: Array<{ inventory?: { location_levels?: Array<{ available_quantity?: number | string | null }> | null } | null }> | null;
  product?: {
    title?: string | null;
    status?: string | null;
    deleted_at?: string | Date | null;
    categories?: Array<{ name?: string | null }> | null;
    collection?: { title?: string | null } | null;
    type?: { value?: string | null } | null;
    tags?: Array<{ value?: string | null }> | null;
  } | null;
}

export interface MedusaOrder {
  id: string;
  status?: string | null;
  customer_id?: string | null;
  currency_code?: string | null;
  created_at?: string | Date | null;
  canceled_at?: string | Date | null;
  items?: Array<{
    variant_id?: string | null;
    quantity: number | string;
    total?: number | string | null;
    unit_price?: number | string | null;
    detail?: { return_received_quantity?: number | string | null; written_off_quantity?: number | string | null } | null;
  }> | null;
}

const num = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));

export function customerInput(c: MedusaCustomer): CustomerInput {
  const address = c.addresses?.find((a) => a.is_default_shipping) ?? c.addresses?.[0];
  return {
    externalId: c.id,
    email: c.email || null,
    phone: c.phone || null,
    firstName: c.first_name || null,
    lastName: c.last_name || null,
    city: address?.city || null,
    region: address?.province || null,
    country: address?.country_code?.toUpperCase() || null,
    createdAt: c.created_at ?? null,
  };
}

/** A variant is a product in Kokyaku: categories from the product's categories, collection and type. */
export function productInput(v: MedusaVariant, currency: string): ProductInput {
  const product = v.product ?? {};
  const categories = [...new Set([...(product.categories ?? []).map((c) => c.name), product.collection?.title, product.type?.value].filter((x): x is string => !!x))];
  const price = (v.prices ?? []).find((p) => p.currency_code.toUpperCase() === currency.toUpperCase());
  const available = (v.inventory_items ?? []).flatMap((i) => i.inventory?.location_levels ?? []).reduce((s, l) => s + num(l.available_quantity), 0);
  const gone = !!v.deleted_at || !!product.deleted_at || (product.status != null && product.status !== 'published');
  const name = [product.title, v.title && v.title !== 'Default variant' ? v.title : null].filter(Boolean).join(' ') || v.sku || v.id;
  return {
    externalId: v.id,
    name,
    price: price ? num(price.amount) : null,
    categories: categories.slice(0, 50),
    tags: [...(v.sku ? [`sku:${v.sku}`] : []), ...(product.tags ?? []).map((t) => t.value).filter((x): x is string => !!x)].slice(0, 50),
    inStock: !gone && (!v.manage_inventory || !!v.allow_backorder || available > 0),
  };
}

/**
 * An order as Kokyaku counts it: each item at its total (tax in, discounts out) per unit; items
 * returned and received are gone. A canceled order is CANCELLED with its items as placed. Draft
 * orders (status draft) and orders without a customer are left out.
 */
export function orderInput(o: MedusaOrder, currency: string): OrderInput | null {
  if (!o.customer_id || o.status === 'draft') return null;
  const cancelled = o.status === 'canceled' || !!o.canceled_at;
  const merged = new Map<string, { quantity: number; amount: number }>();
  for (const item of o.items ?? []) {
    if (!item.variant_id) continue;
    const ordered = num(item.quantity);
    const returned = cancelled ? 0 : num(item.detail?.return_received_quantity) + num(item.detail?.written_off_quantity);
    const quantity = ordered - returned;
    if (quantity <= 0 || ordered <= 0) continue;
    const perUnit = item.total != null ? num(item.total) / ordered : num(item.unit_price);
    const m = merged.get(item.variant_id) ?? { quantity: 0, amount: 0 };
    m.quantity += quantity;
    m.amount += perUnit * quantity;
    merged.set(item.variant_id, m);
  }
  if (merged.size === 0) return null;
  const digits = currencyDigits((o.currency_code ?? currency).toUpperCase());
  return {
    externalId: o.id,
    customerExternalId: o.customer_id,
    placedAt: o.created_at ?? new Date(),
    currency: (o.currency_code ?? currency).toUpperCase(),
    status: cancelled ? 'CANCELLED' : 'PLACED',
    lines: [...merged].map(([id, m]) => ({ productExternalId: id, quantity: m.quantity, unitPrice: Number((m.amount / m.quantity).toFixed(digits)) })),
  };
}
