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
 * What staff would have written into the CRM by now: a café chain with its branches and their
 * buyers as contacts, a wholesale pipeline with deals, notes, tasks, a complaint with its reply,
 * and lead scoring rules with a segment of hot leads. Deterministic: the first customers of the
 * demo shop play the parts.
 */
async function seedCrmRecords(kokyaku: Kokyaku, demo: DemoShop, now: Date): Promise<void> {
  const ctx = kokyaku.context({ actor: { id: 'staff-demo', roles: ['ADMIN'] } });
  const customerId = async (index: number) => (await kokyaku.customers.findByExternalId(ctx, demo.customers[index % demo.customers.length]!.id))!.id;
  const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
  await kokyaku.customFields.define(ctx, { entity: 'COMPANY', key: 'contract', label: 'Contract', type: 'SELECT', options: ['none', 'monthly', 'annual'] });
  await kokyaku.customFields.define(ctx, { entity: 'CUSTOMER', key: 'roast', label: 'Preferred roast', type: 'SELECT', options: ['light', 'medium', 'dark'] });
  const chain = await kokyaku.companies.create(ctx, { name: 'Kissa Holdings', domain: 'kissa.example', industry: 'café', size: 240, customFields: { contract: 'annual' } });
  const kanto = await kokyaku.companies.create(ctx, { name: 'Kissa Kanto', parentId: chain.id, customFields: { contract: 'annual' } });
  const branches = [
    await kokyaku.companies.create(ctx, { name: 'Kissa Shibuya', parentId: kanto.id }),
    await kokyaku.companies.create(ctx, { name: 'Kissa Yokohama', parentId: kanto.id }),
    await kokyaku.companies.create(ctx, { name: 'Kissa Umeda', parentId: chain.id, customFields: { contract: 'monthly' } }),
  ];
  await kokyaku.companies.addContact(ctx, chain.id, { id: await customerId(0) }, { title: 'Purchasing manager', role: 'decision maker' });
  for (const [i, branch] of branches.entries()) await kokyaku.companies.addContact(ctx, branch.id, { id: await customerId(i + 1) }, { title: 'Store manager', role: 'buyer' });
  await kokyaku.customers.upsert(
    ctx,
    [0, 1, 2].map((i) => ({ externalId: demo.customers[i]!.id, customFields: { roast: ['light', 'medium', 'dark'][i] } })),
  );

  const pipeline = await kokyaku.deals.createPipeline(ctx, {
    name: 'Wholesale',
    stages: [
      { name: 'Lead', probability: 0.1 },
      { name: 'Tasting', probability: 0.3 },
      { name: 'Proposal', probability: 0.6 },
      { name: 'Won', probability: 1, outcome: 'WON' },
      { name: 'Lost', probability: 0, outcome: 'LOST' },
    ],
  });
  const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
  const month = (n: number) =>
    days(30 * n)
      .toISOString()
      .slice(0, 10);
  const beans = await kokyaku.deals.create(ctx, {
    pipelineId: pipeline.id,
    stageId: stage('Proposal'),
    title: 'House blend for all branches',
    amount: 1_200_000,
    expectedCloseDate: month(1),
    ownerId: 'staff-demo',
    companyId: chain.id,
    customerId: await customerId(0),
  });
  await kokyaku.deals.create(ctx, {
    pipelineId: pipeline.id,
    stageId: stage('Tasting'),
    title: 'Decaf trial, Umeda',
    amount: 180_000,
    expectedCloseDate: month(2),
    ownerId: 'staff-sales',
    companyId: branches[2]!.id,
  });
  await kokyaku.deals.create(ctx, {
    pipelineId: pipeline.id,
    title: 'Cold brew kits',
    amount: 90_000,
    expectedCloseDate: month(3),
    ownerId: 'staff-sales',
    companyId: branches[0]!.id,
  });
  await kokyaku.notes.add(ctx, { companyId: chain.id, body: 'Annual contract renews in spring; they compare with two roasters.', pinned: true });
  await kokyaku.notes.add(ctx, { dealId: beans.id, body: 'Tasting went well: medium roast preferred.' });
  await kokyaku.notes.add(ctx, { customerId: await customerId(1), body: 'Prefers calls before the lunch rush (before 11:00).' });
  await kokyaku.tasks.create(ctx, { title: 'Send the annual contract draft', assigneeId: 'staff-demo', dueAt: days(3), dealId: beans.id, priority: 'HIGH' });
  await kokyaku.tasks.create(ctx, { title: 'Call back about the grinder', assigneeId: 'staff-demo', dueAt: days(-1), customerId: await customerId(1) });
  const complaintBy = demo.orders.find((o) => o.status === 'PLACED')!;
  const complaint = await kokyaku.inquiries.open(ctx, {
    customerExternalId: complaintBy.customerId,
    orderExternalId: complaintBy.id,
    kind: 'COMPLAINT',
    channel: 'EMAIL',
    category: 'delivery',
    subject: 'Beans arrived late',
    body: 'My order came three days after the promised date.',
    openedAt: days(-2),
  });
  await kokyaku.inquiries.reply(ctx, complaint.id, { body: 'We are sorry. A coupon for your next order is on its way.', at: new Date(days(-2).getTime() + 45 * 60_000) });
  await kokyaku.inquiries.update(ctx, complaint.id, { status: 'RESOLVED', at: days(-1) });

  await kokyaku.scoring.createRule(ctx, {
    name: 'Viewed products three times this week',
    activity: 'EVENT',
    eventType: 'product_viewed',
    minCount: 3,
    withinDays: 7,
    halfLifeDays: 7,
    points: 30,
  });
  await kokyaku.scoring.createRule(ctx, { name: 'Added to cart', activity: 'EVENT', eventType: 'added_to_cart', withinDays: 14, halfLifeDays: 3, points: 25 });
  await kokyaku.scoring.createRule(ctx, { name: 'Ordered recently', activity: 'ORDER', halfLifeDays: 30, points: 20 });
  await kokyaku.scoring.createRule(ctx, { name: 'Subscribed to the newsletter', condition: 'email_subscription_status = SUBSCRIBED', points: 10 });
  await kokyaku.segments.create(ctx, { name: 'Hot leads', query: 'score_band = HOT' });
}

/**
 * Fills an empty shop with the demo data and sends it to the CRM through core's batch API.
 * Returns false (and does nothing) when the shop already has products.
 */
export async function seedDemoShop(pool: pg.Pool, kokyaku: Kokyaku, options: DemoOptions = {}, progress: (line: string) => void = () => undefined): Promise<boolean> {
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
  await seedCrmRecords(kokyaku, demo, options.now ?? new Date());
  progress('CRM records: companies, a pipeline with deals, notes, tasks, an inquiry, scoring rules');
  done = 0;
  for (const batch of chunks(demo.events, 10000)) {
    await kokyaku.events.track(ctx, batch.map(toCrm.event));
    done += batch.length;
    progress(`events sent to the CRM: ${done}/${demo.events.length}`);
  }
  // RFM scores, deciles and CLV models from the whole history, as the nightly refresh would.
  await kokyaku.refresh();
  progress('analytics refreshed (RFM, deciles, CLV, recommendations)');
  await seedJourneys(kokyaku);
  progress('journeys: thank-you, inquiry follow-up, win-back, birthday');
  return true;
}

/**
 * The journeys a coffee shop starts with: thank first-time buyers, follow up on inquiries,
 * win back lapsed repeat customers, and a birthday coupon. Active from the moment they are
 * saved: the demo history (all in the past) starts nothing; orders placed in the shop do.
 */
async function seedJourneys(kokyaku: Kokyaku): Promise<void> {
  const ctx = kokyaku.context({ actor: { id: 'staff-demo', roles: ['ADMIN'] } });
  const lapsed = (await kokyaku.segments.list(ctx)).nodes.find((s) => s.name === 'Lapsed repeat customers')!;
  const journeys = [
    {
      name: 'Thank you for your first order',
      definition: {
        trigger: { type: 'ORDER_PLACED', firstOrder: true },
        steps: [
          {
            id: 'thanks',
            type: 'SEND',
            channel: 'EMAIL',
            purpose: 'TRANSACTIONAL',
            subject: '{{ customer.salutation }}、はじめてのご注文ありがとうございます',
            text: `{{ customer.salutation }}

ご注文 {{ order.number }} を承りました。
{% for line in order.lines %}・{{ line.name }} × {{ line.quantity }}
{% endfor %}合計 {{ order.total | money }}

一緒によく買われている商品:
{% render 'recommendations', items: recommendations.bought_together %}`,
          },
          { id: 'wait', type: 'WAIT', days: 14, untilTime: '10:00' },
          { id: 'again', type: 'CONDITION', query: 'number_of_orders >= 2', yes: null, no: 'nudge' },
          {
            id: 'nudge',
            type: 'SEND',
            channel: 'PREFERRED',
            fallback: ['EMAIL'],
            purpose: 'MARKETING',
            subject: 'そろそろ豆が切れる頃ではありませんか?',
            text: "{{ customer.salutation }}\n\nあなたへのおすすめ:\n{% render 'recommendations', items: recommendations.for_you %}\n配信停止: {{ unsubscribe_url }}",
          },
        ],
      },
    },
    {
      name: 'Inquiry follow-up',
      definition: {
        trigger: { type: 'INQUIRY_OPENED' },
        steps: [
          { id: 'wait', type: 'WAIT', hours: 48 },
          {
            id: 'ask',
            type: 'SEND',
            channel: 'EMAIL',
            purpose: 'TRANSACTIONAL',
            subject: 'お問い合わせのその後について',
            text: '{{ customer.salutation }}\n\nお問い合わせの件は解決しましたでしょうか。ご不明な点があればこのメールにご返信ください。',
          },
        ],
      },
    },
    {
      name: 'Win back lapsed repeat customers',
      definition: {
        trigger: { type: 'SEGMENT_ENTERED', segmentId: lapsed.id },
        steps: [
          {
            id: 'offer',
            type: 'SEND',
            channel: 'PREFERRED',
            fallback: ['EMAIL'],
            purpose: 'MARKETING',
            subject: 'お久しぶりです。10%オフのクーポンをどうぞ',
            text: "{{ customer.salutation }}\n\nクーポンコード COMEBACK10\n{% render 'recommendations', items: recommendations.for_you %}\n配信停止: {{ unsubscribe_url }}",
          },
          { id: 'wait', type: 'WAIT', days: 10 },
          { id: 'back', type: 'CONDITION', query: 'last_order_date > -10d', yes: 'tag', no: 'call' },
          { id: 'tag', type: 'TAG', add: ['won-back'], next: null },
          { id: 'call', type: 'TASK', title: 'Call a lapsed repeat customer', dueInDays: 3, priority: 'NORMAL' },
        ],
      },
    },
    {
      name: 'Birthday coupon',
      definition: {
        trigger: { type: 'DATE', date: 'BIRTHDAY' },
        reentry: 'EVERY_TIME',
        steps: [
          { id: 'wait', type: 'WAIT', minutes: 1, untilTime: '09:00' },
          {
            id: 'coupon',
            type: 'SEND',
            channel: 'PREFERRED',
            fallback: ['EMAIL'],
            purpose: 'MARKETING',
            subject: 'お誕生日おめでとうございます',
            text: '{{ customer.salutation }}\n\nお誕生日おめでとうございます。今月使える500円クーポン: BIRTHDAY500\n配信停止: {{ unsubscribe_url }}',
          },
        ],
      },
    },
  ];
  for (const j of journeys) {
    const journey = await kokyaku.journeys.create(ctx, j);
    await kokyaku.journeys.setStatus(ctx, journey.id, 'ACTIVE');
  }
}
