/**
 * Medusa's Store and Admin APIs over HTTP, as a storefront and an admin use them: carts,
 * checkout, customer accounts, admin sign-in.
 */
export class MedusaClient {
  constructor(
    readonly base: string,
    readonly publishableKey: string | null = null,
    public token: string | null = null,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.publishableKey ? { 'x-publishable-api-key': this.publishableKey } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: answer } = await this.request<T>(method, path, body);
    if (status >= 400) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(answer)}`);
    return answer;
  }
}

export interface Shopper {
  email: string;
  first_name: string;
  last_name: string;
  /** With a password the shopper has an account (signed in); without, a guest checkout. */
  password?: string;
}

/** Sign in to the Admin API. */
export async function adminClient(base: string, email = 'admin@example.com', password = 'supersecret'): Promise<MedusaClient> {
  const client = new MedusaClient(base);
  const { token } = await client.call<{ token: string }>('POST', '/auth/user/emailpass', { email, password });
  client.token = token;
  return client;
}

/** Register a customer account and sign in (Medusa's two steps: an auth identity, then the customer). */
export async function registerCustomer(base: string, publishableKey: string, shopper: Shopper & { password: string }): Promise<MedusaClient> {
  const client = new MedusaClient(base, publishableKey);
  const { token: registration } = await client.call<{ token: string }>('POST', '/auth/customer/emailpass/register', { email: shopper.email, password: shopper.password });
  client.token = registration;
  await client.call('POST', '/store/customers', { email: shopper.email, first_name: shopper.first_name, last_name: shopper.last_name });
  const { token } = await client.call<{ token: string }>('POST', '/auth/customer/emailpass', { email: shopper.email, password: shopper.password });
  client.token = token;
  return client;
}

/** One checkout through the Store API: a cart with its items and address, shipping, a payment session, complete. */
export async function placeOrder(
  client: MedusaClient,
  shopper: Shopper,
  lines: Array<{ variant_id: string; quantity: number }>,
): Promise<{ id: string; display_id: number; customer_id: string }> {
  const { cart } = await client.call<{ cart: { id: string } }>('POST', '/store/carts', {
    region_id: await regionId(client),
    items: lines,
    email: shopper.email,
    shipping_address: { first_name: shopper.first_name, last_name: shopper.last_name, address_1: '1-2-3 Jingumae', city: 'Tokyo', postal_code: '150-0001', country_code: 'jp' },
  });
  const { shipping_options } = await client.call<{ shipping_options: Array<{ id: string }> }>('GET', `/store/shipping-options?cart_id=${cart.id}&fields=id`);
  await client.call('POST', `/store/carts/${cart.id}/shipping-methods?fields=id`, { option_id: shipping_options[0]!.id });
  const { payment_collection } = await client.call<{ payment_collection: { id: string } }>('POST', '/store/payment-collections?fields=id', { cart_id: cart.id });
  await client.call('POST', `/store/payment-collections/${payment_collection.id}/payment-sessions?fields=id`, { provider_id: 'pp_system_default' });
  const done = await complete(client, cart.id);
  if (done.type !== 'order' || !done.order) throw new Error(`Cart ${cart.id} not completed: ${JSON.stringify(done.error)}`);
  return done.order;
}

/**
 * Completes a cart. Concurrent checkouts of the same stock can make Medusa answer a completion
 * with 500 (its reservations under load); the completion workflow of a cart is idempotent (a
 * completed cart answers with its order), so a storefront tries the same request again.
 */
async function complete(client: MedusaClient, cartId: string) {
  type Done = { type: string; order?: { id: string; display_id: number; customer_id: string }; error?: unknown };
  for (let attempt = 1; ; attempt++) {
    const { status, body } = await client.request<Done>('POST', `/store/carts/${cartId}/complete`);
    if (status < 400) return body;
    if (status < 500 || attempt >= 5) throw new Error(`POST /store/carts/${cartId}/complete: ${status} ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
  }
}

const regions = new Map<string, Promise<string>>();
/** The shop's region (the example has one), asked once per shop. */
function regionId(client: MedusaClient): Promise<string> {
  let id = regions.get(client.base);
  if (!id) {
    id = client.call<{ regions: Array<{ id: string }> }>('GET', '/store/regions?fields=id').then((r) => r.regions[0]!.id);
    regions.set(client.base, id);
    id.catch(() => regions.delete(client.base));
  }
  return id;
}

/** The shop's variant ids, through the Store API. */
export async function variantIds(client: MedusaClient): Promise<string[]> {
  const { products } = await client.call<{ products: Array<{ variants: Array<{ id: string }> }> }>('GET', '/store/products?limit=100&fields=id,*variants');
  return products.flatMap((p) => p.variants.map((v) => v.id));
}

const FIRST = ['Haruto', 'Yui', 'Sota', 'Hina', 'Ren', 'Mei', 'Yuto', 'Aoi', 'Minato', 'Sakura', 'Riku', 'Himari', 'Kaito', 'Rin', 'Hayato', 'Mio'];
const LAST = ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Ito', 'Watanabe', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'];

export function shoppers(count: number, prefix = 'guest'): Shopper[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}${i + 1}@example.com`,
    first_name: FIRST[i % FIRST.length]!,
    last_name: LAST[Math.floor(i / FIRST.length) % LAST.length]!,
  }));
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `orders` guest checkouts by `customers` shoppers (every one orders, a third come back most), `concurrency` at a time. */
export async function seedOrders(
  base: string,
  publishableKey: string,
  options: { customers: number; orders: number; concurrency?: number; log?: (line: string) => void },
): Promise<number> {
  const variants = await variantIds(new MedusaClient(base, publishableKey));
  const people = shoppers(options.customers);
  const rand = random(42);
  const plan = Array.from({ length: options.orders }, (_, i) => {
    const who = i < people.length ? people[i]! : people[Math.floor(rand() ** 2 * people.length)]!;
    const lines = new Map<string, number>();
    const favourite = variants[(people.indexOf(who) * 7) % variants.length]!;
    for (let l = 0, n = 1 + Math.floor(rand() * 3); l < n; l++) {
      const v = l === 0 && rand() < 0.6 ? favourite : variants[Math.floor(rand() * variants.length)]!;
      lines.set(v, (lines.get(v) ?? 0) + 1 + Math.floor(rand() * 2));
    }
    return { who, lines: [...lines].map(([variant_id, quantity]) => ({ variant_id, quantity })) };
  });
  let next = 0;
  let placed = 0;
  const worker = async () => {
    while (next < plan.length) {
      const order = plan[next++]!;
      await placeOrder(new MedusaClient(base, publishableKey), order.who, order.lines);
      if (++placed % 100 === 0) options.log?.(`${placed}/${plan.length} orders placed`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return placed;
}
