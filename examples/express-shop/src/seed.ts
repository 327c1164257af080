import type { Kokyaku } from '@kokyaku/core';
import type pg from 'pg';
import { type DemoOptions, type DemoShop, generateDemoShop } from './demo-data.js';
import { transaction } from './shop-db.js';

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The CRM payloads of the shop's records, keyed by the shop's own ids. */
export const toCrm = {
  customer: (c: DemoShop['customers'][number]) => ({
    externalId: c.id,
    email: c.email,
    phone: c.phone,
    firstName: c.firstName,
    lastName: c.lastName,
    birthday: c.birthday,
    region: c.prefecture,
    city: c.city,
    country: 'JP',
    tags: c.tags,
    emailConsent: c.newsletter,
    createdAt: c.createdAt,
  }),
  order: (o: DemoShop['orders'][number]) => ({
    externalId: o.id,
    customerExternalId: o.customerId,
    placedAt: o.placedAt,
    status: o.status,
    lines: o.lines.map((l) => ({ productExternalId: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
  }),
  product: (p: DemoShop['products'][number]) => ({
    externalId: p.sku,
    name: p.name,
    price: p.price,
    categories: [p.category],
    tags: p.tags,
    inStock: p.stock > 0,
  }),
  event: (e: DemoShop['events'][number]) => ({
    eventId: e.eventId,
    type: e.type,
    customerExternalId: e.customerId,
    productExternalId: e.sku,
    occurredAt: e.occurredAt,
    properties: e.properties,
  }),
};

/**
 * Fills an empty shop with the demo data and sends it to the CRM through core's batch API.
 * Returns false (and does nothing) when the shop already has products.
 */
export async function seedDemoShop(
  pool: pg.Pool,
  kokyaku: Kokyaku,
  options: DemoOptions = {},
  progress: (line: string) => void = () => undefined,
): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from shop.products');
  if (rows[0]!.n > 0) return false;
  const started = Date.now();
  const say = progress;
  progress = (line) => say(`${line} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const demo = generateDemoShop(options);
  progress(`demo data: ${demo.products.length} products, ${demo.customers.length} customers, ${demo.orders.length} orders, ${demo.events.length} events`);

  await transaction(pool, async (client) => {
    const json = (v: unknown) => JSON.stringify(v);
    await client.query(
      `insert into shop.products (sku, name, category, tags, price, stock)
       select p->>'sku', p->>'name', p->>'category', array(select jsonb_array_elements_text(p->'tags')), (p->>'price')::int, (p->>'stock')::int
       from jsonb_array_elements($1::jsonb) p`,
      [json(demo.products)],
    );
    await client.query(
      `insert into shop.customers (id, email, first_name, last_name, phone, prefecture, city, birthday, newsletter, created_at)
       select c->>'id', c->>'email', c->>'firstName', c->>'lastName', c->>'phone', c->>'prefecture', c->>'city',
              (c->>'birthday')::date, (c->>'newsletter')::boolean, (c->>'createdAt')::timestamptz
       from jsonb_array_elements($1::jsonb) c`,
      [json(demo.customers)],
    );
    for (const batch of chunks(demo.orders, 5000)) {
      await client.query(
        `insert into shop.orders (id, customer_id, placed_at, status, total)
         select o->>'id', o->>'customerId', (o->>'placedAt')::timestamptz, o->>'status',
                (select sum((l->>'quantity')::int * (l->>'unitPrice')::int) from jsonb_array_elements(o->'lines') l)
         from jsonb_array_elements($1::jsonb) o`,
        [json(batch)],
      );
      await client.query(
        `insert into shop.order_items (order_id, line, sku, quantity, unit_price)
         select o->>'id', l.ord::int, l.item->>'sku', (l.item->>'quantity')::int, (l.item->>'unitPrice')::int
         from jsonb_array_elements($1::jsonb) o, jsonb_array_elements(o->'lines') with ordinality as l(item, ord)`,
        [json(batch)],
      );
    }
    await client.query(`select setval('shop.order_number', $1)`, [demo.orders.length + 1]);
  });

  const ctx = kokyaku.context();
  await kokyaku.products.upsert(ctx, demo.products.map(toCrm.product));
  for (const batch of chunks(demo.customers, 5000)) await kokyaku.customers.upsert(ctx, batch.map(toCrm.customer));
  let done = 0;
  for (const batch of chunks(demo.orders, 2000)) {
    await kokyaku.orders.record(ctx, batch.map(toCrm.order));
    done += batch.length;
    progress(`orders sent to the CRM: ${done}/${demo.orders.length}`);
  }
  // A few saved segments to explore (GraphQL: segments { name count }).
  for (const segment of [
    { name: 'Loyal coffee drinkers', query: "products_purchased MATCHES (category = 'coffee', count >= 3)" },
    { name: 'Lapsed repeat customers', query: 'number_of_orders >= 2 AND last_order_date < -90d' },
    { name: 'Birthdays this week', query: 'anniversary(birthday) BETWEEN today AND +7d AND email_subscription_status = SUBSCRIBED' },
    { name: 'Abandoned carts', query: "events MATCHES (type = 'added_to_cart', date > -7d) AND NOT orders_placed MATCHES (date > -7d)" },
  ]) {
    await kokyaku.segments.create(ctx, segment);
  }
  done = 0;
  for (const batch of chunks(demo.events, 10000)) {
    await kokyaku.events.track(ctx, batch.map(toCrm.event));
    done += batch.length;
    progress(`events sent to the CRM: ${done}/${demo.events.length}`);
  }
  // RFM scores, deciles and CLV models from the whole history, as the nightly refresh would.
  await kokyaku.refresh();
  progress('analytics refreshed (RFM, deciles, CLV, recommendations)');
  return true;
}
