import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type InitialData, LanguageCode, dummyPaymentHandler } from '@vendure/core';
import { importProductsFromCsv, populateCollections, populateInitialData } from '@vendure/core/cli';
import { VendureClient } from './client.js';

export const initialData: InitialData = {
  defaultLanguage: LanguageCode.en,
  defaultZone: 'Asia',
  countries: [
    { name: 'Japan', code: 'JP', zone: 'Asia' },
    { name: 'United States of America', code: 'US', zone: 'Americas' },
  ],
  taxRates: [{ name: 'Standard Tax', percentage: 10 }],
  shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
  paymentMethods: [{ name: 'Standard Payment', handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] } }],
  collections: [
    { name: 'Coffee', filters: [{ code: 'facet-value-filter', args: { facetValueNames: ['Coffee'], containsAny: false } }] },
    { name: 'Tea', filters: [{ code: 'facet-value-filter', args: { facetValueNames: ['Tea'], containsAny: false } }] },
    { name: 'Brewing', filters: [{ code: 'facet-value-filter', args: { facetValueNames: ['Brewing'], containsAny: false } }] },
  ],
};

/** [name, category, origin, price of the first variant in cents, sizes] */
const CATALOGUE: Array<[string, string, string, number, string[]]> = [
  ['Ethiopia Yirgacheffe', 'Coffee', 'Ethiopia', 1600, ['250g', '1kg']],
  ['Colombia Huila', 'Coffee', 'Colombia', 1400, ['250g', '1kg']],
  ['Guatemala Antigua', 'Coffee', 'Guatemala', 1500, ['250g', '1kg']],
  ['Kenya AA', 'Coffee', 'Kenya', 1900, ['250g', '1kg']],
  ['House Espresso', 'Coffee', 'Brazil', 1200, ['250g', '1kg']],
  ['Decaf Mexico', 'Coffee', 'Mexico', 1300, ['250g']],
  ['Sencha', 'Tea', 'Japan', 1100, ['100g']],
  ['Gyokuro', 'Tea', 'Japan', 2800, ['100g']],
  ['Hojicha', 'Tea', 'Japan', 900, ['100g']],
  ['Paper Filters', 'Brewing', 'Japan', 500, ['100 pcs']],
  ['Pour-over Dripper', 'Brewing', 'Japan', 2400, ['Ceramic', 'Plastic']],
  ['Hand Grinder', 'Brewing', 'Taiwan', 6500, ['Standard']],
];

/** Vendure's product import CSV for the catalogue (each product has a size option). */
export function productsCsv(): string {
  const header = 'name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets';
  const rows: string[] = [header];
  for (const [name, category, origin, cents, sizes] of CATALOGUE) {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    sizes.forEach((size, i) => {
      const price = ((i === 0 ? cents : Math.round(cents * 3.4)) / 100).toFixed(2);
      const sku = `${slug}-${size.toLowerCase().replace(/[^a-z0-9]+/g, '')}`;
      const first = i === 0;
      rows.push(
        [
          first ? name : '',
          first ? slug : '',
          first ? `${name} from ${origin}.` : '',
          '',
          first ? `category:${category}|origin:${origin}` : '',
          first ? 'size' : '',
          size,
          sku,
          price,
          'Standard Tax',
          // Enough for the benchmark's 3,000 orders (`pnpm bench`, scale 1) as for the demo.
          '100000',
          'true',
          '',
          '',
        ]
          .map((v) => (/[,"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
          .join(','),
      );
    });
  }
  return `${rows.join('\n')}\n`;
}

/** Tax zones, shipping, payment, the catalogue and its collections, as Vendure's own populate does. */
export async function populateShop(app: Parameters<typeof populateInitialData>[0]): Promise<void> {
  await populateInitialData(app, initialData);
  const dir = await mkdtemp(path.join(tmpdir(), 'vendure-seed-'));
  try {
    const csv = path.join(dir, 'products.csv');
    await writeFile(csv, productsCsv());
    const progress = await importProductsFromCsv(app, csv, LanguageCode.en);
    if (progress.errors?.length) throw new Error(`Product import: ${progress.errors.join('; ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await populateCollections(app, initialData);
}

const ORDER = `... on Order { id code state } ... on ErrorResult { errorCode message }`;

type Result = { id?: string; code?: string; state?: string; errorCode?: string; message?: string };
function ok(r: Result, step: string): Result {
  if (r.errorCode) throw new Error(`${step}: ${r.errorCode} ${r.message}`);
  return r;
}

export interface Shopper {
  email: string;
  firstName: string;
  lastName: string;
  /** With a password the shopper has an account and signs in; without, a guest checkout. */
  password?: string;
}

/**
 * One checkout through the Shop API, as a storefront does it: cart, customer, address,
 * shipping, payment. Returns the placed order's id and code.
 */
export async function placeOrder(
  shopApi: string,
  shopper: Shopper,
  lines: Array<{ variantId: string; quantity: number }>,
  client = new VendureClient(shopApi),
): Promise<{ id: string; code: string }> {
  if (shopper.password && !client.token) {
    const { login } = await client.query<{ login: Result & { __typename: string } }>(
      `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { __typename ... on ErrorResult { errorCode message } } }`,
      { u: shopper.email, p: shopper.password },
    );
    ok(login, 'login');
  }
  for (const line of lines) {
    const { addItemToOrder } = await client.query<{ addItemToOrder: Result }>(`mutation ($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v, quantity: $q) { ${ORDER} } }`, {
      v: line.variantId,
      q: line.quantity,
    });
    ok(addItemToOrder, 'addItemToOrder');
  }
  if (!shopper.password) {
    const { setCustomerForOrder } = await client.query<{ setCustomerForOrder: Result }>(`mutation ($i: CreateCustomerInput!) { setCustomerForOrder(input: $i) { ${ORDER} } }`, {
      i: { emailAddress: shopper.email, firstName: shopper.firstName, lastName: shopper.lastName },
    });
    ok(setCustomerForOrder, 'setCustomerForOrder');
  }
  await client.query(`mutation ($i: CreateAddressInput!) { setOrderShippingAddress(input: $i) { ${ORDER} } }`, {
    i: { fullName: `${shopper.firstName} ${shopper.lastName}`, streetLine1: '1-2-3 Jingumae', city: 'Tokyo', postalCode: '150-0001', countryCode: 'JP' },
  });
  const { eligibleShippingMethods } = await client.query<{ eligibleShippingMethods: Array<{ id: string }> }>(`{ eligibleShippingMethods { id } }`);
  ok(
    (
      await client.query<{ setOrderShippingMethod: Result }>(`mutation ($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) { ${ORDER} } }`, {
        id: [eligibleShippingMethods[0]!.id],
      })
    ).setOrderShippingMethod,
    'setOrderShippingMethod',
  );
  ok(
    (await client.query<{ transitionOrderToState: Result }>(`mutation { transitionOrderToState(state: "ArrangingPayment") { ${ORDER} } }`)).transitionOrderToState,
    'transitionOrderToState',
  );
  const { eligiblePaymentMethods } = await client.query<{ eligiblePaymentMethods: Array<{ code: string }> }>(`{ eligiblePaymentMethods { code } }`);
  const { addPaymentToOrder } = await client.query<{ addPaymentToOrder: Result }>(`mutation ($i: PaymentInput!) { addPaymentToOrder(input: $i) { ${ORDER} } }`, {
    i: { method: eligiblePaymentMethods[0]!.code, metadata: {} },
  });
  const placed = ok(addPaymentToOrder, 'addPaymentToOrder');
  return { id: placed.id!, code: placed.code! };
}

/** Register a customer account through the Shop API (the example needs no verification mail). */
export async function register(shopApi: string, shopper: Shopper): Promise<VendureClient> {
  const client = new VendureClient(shopApi);
  const { registerCustomerAccount } = await client.query<{ registerCustomerAccount: Result & { __typename: string } }>(
    `mutation ($i: RegisterCustomerInput!) { registerCustomerAccount(input: $i) { __typename ... on ErrorResult { errorCode message } } }`,
    { i: { emailAddress: shopper.email, firstName: shopper.firstName, lastName: shopper.lastName, password: shopper.password } },
  );
  ok(registerCustomerAccount, 'registerCustomerAccount');
  const { login } = await client.query<{ login: Result }>(
    `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { ... on ErrorResult { errorCode message } } }`,
    {
      u: shopper.email,
      p: shopper.password,
    },
  );
  ok(login, 'login');
  return client;
}

/** The shop's variant ids (Shop API search-free: the products list). */
export async function variantIds(shopApi: string): Promise<string[]> {
  const client = new VendureClient(shopApi);
  const { products } = await client.query<{ products: { items: Array<{ variants: Array<{ id: string }> }> } }>(
    `{ products(options: { take: 100 }) { items { variants { id } } } }`,
  );
  return products.items.flatMap((p) => p.variants.map((v) => v.id));
}

const FIRST = ['Haruto', 'Yui', 'Sota', 'Hina', 'Ren', 'Mei', 'Yuto', 'Aoi', 'Minato', 'Sakura', 'Riku', 'Himari', 'Kaito', 'Rin', 'Hayato', 'Mio'];
const LAST = ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Ito', 'Watanabe', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'];

/** Deterministic pseudo-random numbers, so a seed is the same every time. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shoppers(count: number, prefix = 'guest'): Shopper[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}${i + 1}@example.com`,
    firstName: FIRST[i % FIRST.length]!,
    lastName: LAST[Math.floor(i / FIRST.length) % LAST.length]!,
  }));
}

/**
 * Place `orders` orders through the Shop API for `customers` guest shoppers: some buy once, some
 * come back (a few favourites per shopper), `concurrency` checkouts at a time.
 */
export async function seedOrders(
  shopApi: string,
  options: { customers: number; orders: number; concurrency?: number; seed?: number; log?: (line: string) => void },
): Promise<number> {
  const variants = await variantIds(shopApi);
  const people = shoppers(options.customers);
  const rand = random(options.seed ?? 42);
  const plan = Array.from({ length: options.orders }, (_, i) => {
    // Every shopper orders once; then the first third of them come back most.
    const who = i < people.length ? people[i]! : people[Math.floor(rand() ** 2 * people.length)]!;
    const count = 1 + Math.floor(rand() * 3);
    const lines = new Map<string, number>();
    const favourite = variants[(people.indexOf(who) * 7) % variants.length]!;
    for (let l = 0; l < count; l++) {
      const v = l === 0 && rand() < 0.6 ? favourite : variants[Math.floor(rand() * variants.length)]!;
      lines.set(v, (lines.get(v) ?? 0) + 1 + Math.floor(rand() * 2));
    }
    return { who, lines: [...lines].map(([variantId, quantity]) => ({ variantId, quantity })) };
  });
  let next = 0;
  let placed = 0;
  const worker = async () => {
    while (next < plan.length) {
      const order = plan[next++]!;
      await placeOrder(shopApi, order.who, order.lines);
      placed++;
      if (placed % 100 === 0) options.log?.(`${placed}/${plan.length} orders placed`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 6 }, worker));
  return placed;
}
