import type { CustomerInput, EventInput, OrderInput, ProductInput } from '@kokyaku/core';
import { addDays } from '../src/shared/dates.js';

/**
 * A small shop, described twice: as the inputs Kokyaku ingests, and as plain objects that tests
 * filter in JavaScript (the independent computation that segment SQL is checked against).
 */
export const TZ = 'Asia/Tokyo';

export interface ModelOrder {
  id: string;
  placedAt: string;
  localDate: string;
  status: 'PLACED' | 'CANCELLED';
  amount: number;
  lines: { product: string; quantity: number; unitPrice: number }[];
}

export interface ModelCustomer {
  id: string;
  email: string | null;
  domain: string | null;
  firstName: string | null;
  lastName: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  birthday: string | null;
  tags: string[];
  subscribed: boolean;
  custom: Record<string, unknown>;
  addedDate: string;
  orders: ModelOrder[];
  events: { type: string; product: string | null; localDate: string }[];
  /** Derived from placed orders only. */
  spent: number;
  count: number;
  aov: number;
  firstOrder: string | null;
  lastOrder: string | null;
}

export interface Fixture {
  today: string;
  products: ProductInput[];
  customers: CustomerInput[];
  orders: OrderInput[];
  events: EventInput[];
  model: ModelCustomer[];
  productInfo: Map<string, { categories: string[]; tags: string[] }>;
}

const localDate = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(iso));

export function buildFixture(today: string): Fixture {
  let seed = 20261122;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  /** An instant on a local (Tokyo) day at a given hour; hours 0-8 are the previous day in UTC. */
  const at = (date: string, hour: number) => `${date}T${String(hour).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}:00+09:00`;

  const products: ProductInput[] = [
    { externalId: 'bean-kenya', name: 'Kenya', price: 1900, categories: ['coffee'], tags: ['single-origin'] },
    { externalId: 'bean-house', name: 'House blend', price: 1300, categories: ['coffee'], tags: ['blend', 'bestseller'] },
    { externalId: 'tea-sencha', name: 'Sencha', price: 1200, categories: ['tea'], tags: ['japan'] },
    { externalId: 'tea-matcha', name: 'Matcha', price: 2400, categories: ['tea', 'gift'], tags: ['japan', 'premium'] },
    { externalId: 'filter', name: 'Filters', price: 400, categories: ['equipment'], tags: [] },
    { externalId: 'kettle', name: 'Kettle', price: 7800, categories: ['equipment', 'gift'], tags: ['premium'] },
  ];
  const productInfo = new Map(products.map((p) => [p.externalId, { categories: p.categories ?? [], tags: p.tags ?? [] }]));
  const prices = new Map(products.map((p) => [p.externalId, p.price!]));

  const customers: CustomerInput[] = [];
  const orders: OrderInput[] = [];
  const events: EventInput[] = [];
  const model: ModelCustomer[] = [];
  const cities = [
    ['横浜市', '神奈川県'],
    ['Osaka', 'Osaka'],
    ['Sapporo', 'Hokkaido'],
    [null, null],
  ] as const;
  const domains = ['example.jp', 'example.com', 'Mail.Example.net'];
  const tagPool = ['vip', 'wholesale', 'newsletter', 'VIP'];
  let orderNo = 0;
  let eventNo = 0;

  const monthDay = today.slice(5) === '02-29' ? '02-28' : today.slice(5);
  for (let i = 0; i < 90; i++) {
    const id = `c${String(i).padStart(3, '0')}`;
    const [city, region] = pick(cities);
    const hasEmail = random() > 0.1;
    const domain = pick(domains);
    const email = hasEmail ? `User${i}@${domain}` : null;
    const birthday = i % 10 === 0 ? '1992-02-29' : i % 7 === 0 ? null : i % 5 === 0 ? `19${int(60, 99)}-${monthDay}` : addDays(`19${int(60, 99)}-${monthDay}`, int(-20, 20));
    const tags = tagPool.filter(() => random() < 0.3);
    const subscribed = random() < 0.5;
    const custom: Record<string, unknown> = {};
    if (random() < 0.6) custom.skin_type = pick(['dry', 'oily', 'normal']);
    if (random() < 0.5) custom.score = int(0, 100);
    if (random() < 0.3) custom.member = random() < 0.5;
    if (random() < 0.4) custom.renewal = addDays(today, int(-60, 60));
    if (random() < 0.4) custom.interests = ['coffee', 'tea', 'cooking'].filter(() => random() < 0.5);
    const added = addDays(today, -int(0, 400));
    const sendAdded = i % 9 !== 0;
    const country = i % 4 === 0 ? 'jp' : i % 4 === 1 ? 'US' : i % 4 === 2 ? 'JP' : null;
    customers.push({
      externalId: id,
      email,
      firstName: i % 6 === 0 ? null : `Name${i % 5}`,
      lastName: i % 11 === 0 ? null : i % 3 === 0 ? 'Sato' : '山田',
      city,
      region,
      country,
      birthday,
      tags,
      emailConsent: subscribed,
      customFields: custom,
      ...(sendAdded ? { createdAt: at(added, int(0, 23)) } : {}),
    });

    const customerOrders: ModelOrder[] = [];
    const orderCount = i % 8 === 0 ? 0 : int(0, 6);
    for (let k = 0; k < orderCount; k++) {
      const day = addDays(today, -int(0, 500));
      const placedAt = at(day, int(0, 23));
      const lines = Array.from({ length: int(1, 3) }, () => {
        const product = pick(products).externalId;
        return { product, quantity: int(1, 3), unitPrice: prices.get(product)! };
      });
      const status = random() < 0.15 ? 'CANCELLED' : 'PLACED';
      const orderId = `o${++orderNo}`;
      orders.push({
        externalId: orderId,
        customerExternalId: id,
        placedAt,
        status,
        lines: lines.map((l) => ({ productExternalId: l.product, quantity: l.quantity, unitPrice: l.unitPrice })),
      });
      customerOrders.push({ id: orderId, placedAt, localDate: localDate(placedAt), status, amount: lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0), lines });
    }
    const customerEvents: ModelCustomer['events'] = [];
    for (let k = int(0, 6); k > 0; k--) {
      const occurredAt = at(addDays(today, -int(0, 20)), int(0, 23));
      const type = pick(['product_viewed', 'product_viewed', 'added_to_cart', 'searched']);
      const product = type === 'searched' ? null : pick(products).externalId;
      events.push({ eventId: `e${++eventNo}`, type, customerExternalId: id, productExternalId: product, occurredAt });
      customerEvents.push({ type, product, localDate: localDate(occurredAt) });
    }

    const placed = customerOrders.filter((o) => o.status === 'PLACED');
    const spent = placed.reduce((s, o) => s + o.amount, 0);
    const dates = placed.map((o) => o.localDate).sort();
    model.push({
      id,
      email: email?.toLowerCase() ?? null,
      domain: email ? domain.toLowerCase() : null,
      firstName: i % 6 === 0 ? null : `Name${i % 5}`,
      lastName: i % 11 === 0 ? null : i % 3 === 0 ? 'Sato' : '山田',
      city,
      region,
      country: country ? country.toUpperCase() : null,
      birthday,
      tags: [...new Set(tags)],
      subscribed,
      custom,
      addedDate: sendAdded ? added : today,
      orders: customerOrders,
      events: customerEvents,
      spent,
      count: placed.length,
      aov: placed.length ? Math.round(spent / placed.length) : 0,
      firstOrder: dates[0] ?? null,
      lastOrder: dates.at(-1) ?? null,
    });
  }
  return { today, products, customers, orders, events, model, productInfo };
}
