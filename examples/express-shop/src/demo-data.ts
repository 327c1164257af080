import { Faker, base, en, ja } from '@faker-js/faker';

/**
 * A deterministic demo shop: a café-goods store with a catalog, a few thousand customers and
 * 18 months of orders and storefront events, shaped like a real shop (most customers buy once,
 * a loyal few buy often, some drift away; coffee buyers come back for beans and pick up filters;
 * browsing and abandoned carts outnumber orders).
 */
export interface DemoProduct {
  sku: string;
  name: string;
  category: string;
  tags: string[];
  price: number;
  stock: number;
}

export interface DemoCustomer {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  prefecture: string;
  city: string;
  birthday: string | null;
  newsletter: boolean;
  createdAt: string;
  tags: string[];
}

export interface DemoOrder {
  id: string;
  customerId: string;
  placedAt: string;
  status: 'PLACED' | 'CANCELLED';
  lines: { sku: string; quantity: number; unitPrice: number }[];
}

export interface DemoEvent {
  eventId: string;
  type: 'product_viewed' | 'added_to_cart' | 'searched';
  customerId: string;
  sku: string | null;
  occurredAt: string;
  properties: Record<string, unknown>;
}

export interface DemoShop {
  products: DemoProduct[];
  customers: DemoCustomer[];
  orders: DemoOrder[];
  events: DemoEvent[];
}

export interface DemoOptions {
  customers?: number;
  months?: number;
  seed?: number;
  /** The end of the history (default: today, at midnight UTC, so reruns on one day agree). */
  now?: Date;
}

const CATALOG: Record<string, { consumable: boolean; weight: number; companions: string[]; items: [string, number][] }> = {
  coffee: {
    consumable: true,
    weight: 34,
    companions: ['equipment', 'sweets'],
    items: [
      ['Ethiopia Yirgacheffe beans 200g', 1800],
      ['Kenya AA beans 200g', 1900],
      ['Colombia Huila beans 200g', 1600],
      ['Guatemala Antigua beans 200g', 1700],
      ['Brazil Cerrado beans 200g', 1400],
      ['House blend beans 200g', 1300],
      ['Decaf Mexico beans 200g', 1800],
      ['Espresso roast beans 500g', 3200],
      ['Drip bag assortment x10', 1500],
      ['Drip bag Kenya x5', 900],
      ['Cold brew pack x4', 1200],
      ['Seasonal single origin 150g', 2100],
      ['Panama Geisha 100g', 4800],
      ['Indonesia Mandheling 200g', 1700],
      ['Costa Rica honey 200g', 1900],
    ],
  },
  tea: {
    consumable: true,
    weight: 18,
    companions: ['sweets', 'tableware'],
    items: [
      ['Sencha Shizuoka 100g', 1200],
      ['Gyokuro Yame 50g', 2600],
      ['Hojicha 100g', 900],
      ['Genmaicha 200g', 800],
      ['Matcha ceremonial 30g', 2400],
      ['Matcha culinary 100g', 1800],
      ['Darjeeling first flush 50g', 2200],
      ['Assam CTC 200g', 1100],
      ['Earl Grey 100g', 1300],
      ['Rooibos 100g', 1000],
      ['Tea bag sampler x20', 1600],
    ],
  },
  equipment: {
    consumable: false,
    weight: 14,
    companions: ['coffee'],
    items: [
      ['Paper filters 100 pcs', 400],
      ['Pour-over dripper', 2800],
      ['Gooseneck kettle', 7800],
      ['Hand grinder', 9800],
      ['Electric grinder', 19800],
      ['Coffee scale', 4800],
      ['French press 600ml', 4200],
      ['Glass server 600ml', 2600],
      ['Milk frother', 3600],
      ['Cold brew bottle', 2900],
      ['Tea strainer', 1200],
      ['Kyusu teapot', 5400],
    ],
  },
  sweets: {
    consumable: true,
    weight: 16,
    companions: ['coffee', 'tea'],
    items: [
      ['Butter cookies tin', 1600],
      ['Dark chocolate 70%', 800],
      ['Financier x6', 1800],
      ['Dorayaki x4', 1200],
      ['Kasutera castella', 2200],
      ['Almond biscotti', 900],
      ['Matcha shortbread', 1100],
      ['Dried fruit mix', 1000],
      ['Yokan bar', 1400],
      ['Caramel nuts', 1200],
    ],
  },
  tableware: {
    consumable: false,
    weight: 10,
    companions: ['tea', 'coffee'],
    items: [
      ['Hasami porcelain mug', 2400],
      ['Double-wall glass 250ml', 1900],
      ['Yunomi teacup', 1800],
      ['Espresso cup set', 3200],
      ['Wooden coaster set', 1500],
      ['Latte bowl', 2200],
      ['Ceramic milk pitcher', 2600],
      ['Travel tumbler', 3400],
    ],
  },
  gift: {
    consumable: false,
    weight: 8,
    companions: ['sweets'],
    items: [
      ['Coffee gift box', 5400],
      ['Tea gift box', 4800],
      ['Sweets and coffee set', 6200],
      ['Gift card 3000', 3000],
      ['Gift card 5000', 5000],
      ['Wrapping service', 300],
    ],
  },
};

const DAY = 86_400_000;

export function generateDemoShop(options: DemoOptions = {}): DemoShop {
  const seed = options.seed ?? 42;
  const customerCount = options.customers ?? 3000;
  const months = options.months ?? 18;
  const now = options.now ?? new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const start = now.getTime() - months * 30.4 * DAY;

  const fakerJa = new Faker({ locale: [ja, en, base], seed });
  const fakerEn = new Faker({ locale: [en, base], seed: seed + 1 });
  const rnd = new Faker({ locale: [base], seed: seed + 2 });
  const random = () => rnd.number.float({ min: 0, max: 1 });
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T>(items: readonly (readonly [T, number])[]): T => {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = random() * total;
    for (const [item, w] of items) if ((r -= w) <= 0) return item;
    return items[items.length - 1]![0];
  };
  const iso = (t: number) => new Date(Math.round(t)).toISOString();

  // Catalog: popularity falls off within each category (a few best sellers, a long tail).
  const products: DemoProduct[] = [];
  const byCategory = new Map<string, { product: DemoProduct; weight: number }[]>();
  let skuNumber = 1;
  for (const [category, spec] of Object.entries(CATALOG)) {
    const list = spec.items.map(([name, price], rank) => {
      const tags = [spec.consumable ? 'consumable' : 'durable'];
      if (price >= 5000) tags.push('premium');
      if (rank < 2) tags.push('bestseller');
      const product = { sku: `SKU-${String(skuNumber++).padStart(4, '0')}`, name, category, tags, price, stock: 500 + Math.floor(random() * 500) };
      products.push(product);
      return { product, weight: 1 / (rank + 1) ** 0.9 };
    });
    byCategory.set(category, list);
  }
  const productOf = (category: string) => weighted(byCategory.get(category)!.map((p) => [p.product, p.weight] as const));
  const categories = Object.entries(CATALOG).map(([c, s]) => [c, s.weight] as const);

  const customers: DemoCustomer[] = [];
  const orders: DemoOrder[] = [];
  const events: DemoEvent[] = [];
  let orderNumber = 1;
  let eventNumber = 1;
  const event = (type: DemoEvent['type'], customerId: string, sku: string | null, at: number, properties: Record<string, unknown> = {}) =>
    events.push({ eventId: `evt_${String(eventNumber++).padStart(7, '0')}`, type, customerId, sku, occurredAt: iso(at), properties });

  for (let i = 1; i <= customerCount; i++) {
    const id = `cus_${String(i).padStart(6, '0')}`;
    const signup = start + random() * (now.getTime() - start - 2 * DAY);
    const kind = weighted([
      ['once', 50],
      ['occasional', 28],
      ['regular', 16],
      ['vip', 6],
    ] as const);
    const orderCount = { once: 1, occasional: 2 + Math.floor(random() * 3), regular: 5 + Math.floor(random() * 6), vip: 10 + Math.floor(random() * 15) }[kind];
    // Some repeat customers drift away part-way through; the rest are still active.
    const churned = kind !== 'once' && random() < 0.35;
    const end = churned ? signup + (now.getTime() - signup) * (0.2 + random() * 0.5) : now.getTime();
    const favourites = [weighted(categories)];
    if (random() < 0.5) favourites.push(weighted(categories));
    const romaji = { first: fakerEn.person.firstName().toLowerCase(), last: fakerEn.person.lastName().toLowerCase() };
    const birthYear = 1960 + Math.floor(random() * 45);
    customers.push({
      id,
      email: `${romaji.first}.${romaji.last}${i}@${pick(['example.com', 'example.jp', 'example.net'])}`,
      firstName: fakerJa.person.firstName(),
      lastName: fakerJa.person.lastName(),
      phone: `0${pick(['70', '80', '90'])}-${String(Math.floor(random() * 10000)).padStart(4, '0')}-${String(Math.floor(random() * 10000)).padStart(4, '0')}`,
      prefecture: fakerJa.location.state(),
      city: fakerJa.location.city(),
      birthday: random() < 0.8 ? `${birthYear}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}` : null,
      newsletter: random() < 0.6,
      createdAt: iso(signup),
      tags: [...(kind === 'vip' ? ['vip'] : []), ...(random() < 0.02 ? ['wholesale'] : [])],
    });

    // Orders: the first soon after signing up, the rest spread over the customer's active life.
    const times = [signup + random() * 2 * DAY];
    for (let k = 1; k < orderCount; k++) times.push(times[0]! + random() * (end - times[0]!));
    times.sort((a, b) => a - b);
    const bought: DemoProduct[] = [];
    for (const placed of times) {
      if (placed > now.getTime() - 60_000) continue;
      const lines = new Map<string, { sku: string; quantity: number; unitPrice: number }>();
      const add = (p: DemoProduct, quantity = 1) => {
        const line = lines.get(p.sku);
        if (line) line.quantity += quantity;
        else lines.set(p.sku, { sku: p.sku, quantity, unitPrice: p.price });
      };
      const category = pick(favourites);
      const repeatable = bought.filter((p) => CATALOG[p.category]!.consumable);
      const main = repeatable.length > 0 && random() < 0.5 ? pick(repeatable) : productOf(category);
      add(main, CATALOG[main.category]!.consumable && random() < 0.3 ? 2 : 1);
      if (random() < 0.45) add(productOf(pick(CATALOG[main.category]!.companions)));
      if (random() < 0.2) add(productOf(category));
      bought.push(...[...lines.keys()].map((sku) => products.find((p) => p.sku === sku)!));
      const orderId = `ord_${String(orderNumber++).padStart(7, '0')}`;
      orders.push({ id: orderId, customerId: id, placedAt: iso(placed), status: random() < 0.03 ? 'CANCELLED' : 'PLACED', lines: [...lines.values()] });
      // The visit that led to the order: views, then the cart.
      let t = placed - (5 + random() * 40) * 60_000;
      for (const line of lines.values()) {
        event('product_viewed', id, line.sku, t, { source: pick(['search', 'category', 'home', 'email']) });
        t += random() * 3 * 60_000;
        event('added_to_cart', id, line.sku, t, { quantity: line.quantity });
        t += random() * 2 * 60_000;
      }
    }

    // Browsing that did not end in an order; some of it with an abandoned cart.
    const sessions = Math.floor(random() * (kind === 'once' ? 3 : 6));
    for (let s = 0; s < sessions; s++) {
      let t = signup + random() * (end - signup);
      if (t > now.getTime()) continue;
      if (random() < 0.3) event('searched', id, null, t, { query: pick(['decaf', 'gift', 'matcha', 'grinder', 'kenya', 'cookies']) });
      const category = random() < 0.7 ? pick(favourites) : weighted(categories);
      const views = 1 + Math.floor(random() * 4);
      for (let v = 0; v < views; v++) {
        t += random() * 4 * 60_000;
        const p = productOf(category);
        event('product_viewed', id, p.sku, t, { source: pick(['search', 'category', 'home', 'recommendation']) });
        if (v === views - 1 && random() < 0.3) event('added_to_cart', id, p.sku, t + 30_000, { quantity: 1 });
      }
    }
  }

  orders.sort((a, b) => (a.placedAt < b.placedAt ? -1 : 1));
  events.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1));
  return { products, customers, orders, events };
}
