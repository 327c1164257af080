import type { Order, ProductVariant } from '@vendure/core';
import { describe, expect, it } from 'vitest';
import { major, orderInput, productInput } from './mapping.js';
import { rolesFor } from './permissions.js';

/** Plain objects shaped like Vendure's entities (the getters the mapping reads given as values). */
function order(partial: Partial<Record<string, unknown>>): Order {
  return {
    id: 7,
    type: 'Regular',
    state: 'PaymentSettled',
    orderPlacedAt: new Date('2026-11-01T10:00:00Z'),
    customerId: 3,
    currencyCode: 'USD',
    shippingWithTax: 550,
    lines: [
      { productVariantId: 1, quantity: 2, orderPlacedQuantity: 2, proratedUnitPriceWithTax: 1100 },
      { productVariantId: 2, quantity: 1, orderPlacedQuantity: 1, proratedUnitPriceWithTax: 990 },
    ],
    payments: [{ state: 'Settled', amount: 2200 + 990 + 550, refunds: [] }],
    ...partial,
  } as unknown as Order;
}

describe('orderInput', () => {
  it('counts the lines at what the customer pays for them, shipping left out', () => {
    expect(orderInput(order({}), 2)).toEqual({
      externalId: '7',
      customerExternalId: '3',
      placedAt: new Date('2026-11-01T10:00:00Z'),
      currency: 'USD',
      status: 'PLACED',
      lines: [
        { productExternalId: '1', quantity: 2, unitPrice: 11 },
        { productExternalId: '2', quantity: 1, unitPrice: 9.9 },
      ],
    });
  });

  it("skips carts, sellers' sub-orders and orders without a customer", () => {
    expect(orderInput(order({ orderPlacedAt: null }), 2)).toBeNull();
    expect(orderInput(order({ type: 'Seller' }), 2)).toBeNull();
    expect(orderInput(order({ customerId: null }), 2)).toBeNull();
  });

  it('a cancelled order is CANCELLED with the quantities it was placed with', () => {
    const cancelled = orderInput(order({ state: 'Cancelled', lines: [{ productVariantId: 1, quantity: 0, orderPlacedQuantity: 2, proratedUnitPriceWithTax: 1100 }] }), 2)!;
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.lines).toEqual([{ productExternalId: '1', quantity: 2, unitPrice: 11 }]);
  });

  it('cancelled lines are gone; a refund for them changes nothing more', () => {
    const o = order({
      lines: [
        { productVariantId: 1, quantity: 1, orderPlacedQuantity: 2, proratedUnitPriceWithTax: 1100 },
        { productVariantId: 2, quantity: 1, orderPlacedQuantity: 1, proratedUnitPriceWithTax: 990 },
      ],
      payments: [{ state: 'Settled', amount: 3740, refunds: [{ state: 'Settled', total: 1100 }] }],
    });
    expect(orderInput(o, 2)!.lines).toEqual([
      { productExternalId: '1', quantity: 1, unitPrice: 11 },
      { productExternalId: '2', quantity: 1, unitPrice: 9.9 },
    ]);
  });

  it('money refunded without cancelling lines lowers the prices in proportion', () => {
    const o = order({
      payments: [
        {
          state: 'Settled',
          amount: 3740,
          refunds: [
            { state: 'Settled', total: 319 },
            { state: 'Pending', total: 1000 },
          ],
        },
      ],
    });
    const lines = orderInput(o, 2)!.lines;
    const total = lines.reduce((s, l) => s + l.quantity * l.unitPrice * 100, 0);
    expect(Math.round(total)).toBeCloseTo(3190 - 319, -1);
  });

  it('one variant on two lines is one line at the average price', () => {
    const o = order({
      lines: [
        { productVariantId: 1, quantity: 1, orderPlacedQuantity: 1, proratedUnitPriceWithTax: 1000 },
        { productVariantId: 1, quantity: 1, orderPlacedQuantity: 1, proratedUnitPriceWithTax: 1200 },
      ],
    });
    expect(orderInput(o, 2)!.lines).toEqual([{ productExternalId: '1', quantity: 2, unitPrice: 11 }]);
  });
});

describe('productInput', () => {
  it('names, prices with tax, collections then facets sorted, stock from the saleable level', () => {
    const variant = {
      id: 5,
      name: 'Kenya AA 1kg',
      sku: 'kenya-1kg',
      enabled: true,
      deletedAt: null,
      priceWithTax: 7106,
      collections: [
        { name: 'Coffee', isPrivate: false, isRoot: false },
        { name: '__root_collection__', isRoot: true },
        { name: 'Staff picks', isPrivate: true },
      ],
      facetValues: [{ name: '1kg', facet: { name: 'size' } }],
      product: { facetValues: [{ translations: [{ name: 'Kenya' }], facet: { translations: [{ name: 'origin' }] } }] },
    } as unknown as ProductVariant;
    expect(productInput(variant, { digits: 2, saleable: 0 })).toEqual({
      externalId: '5',
      name: 'Kenya AA 1kg',
      price: 71.06,
      categories: ['Coffee', 'origin: Kenya', 'size: 1kg'],
      tags: ['sku:kenya-1kg'],
      inStock: false,
    });
    expect(productInput(variant, { digits: 2, saleable: null }).inStock).toBe(true);
  });
});

describe('rolesFor', () => {
  it('maps Vendure permissions to Kokyaku roles', () => {
    expect(rolesFor(['SuperAdmin'])).toEqual(['ADMIN']);
    expect(rolesFor(['ReadCatalog', 'KokyakuRead', 'KokyakuSupport']).sort()).toEqual(['SUPPORT', 'VIEWER']);
    expect(rolesFor(['ReadCatalog', 'Authenticated'])).toEqual([]);
  });
});

it('major converts minor units by the currency digits', () => {
  expect(major(7106, 2)).toBe(71.06);
  expect(major(500, 0)).toBe(500);
});
