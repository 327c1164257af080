import { RFM_GROUPS } from '../shared/rfm.js';

/**
 * The vocabulary of the segment language: attributes of a customer and MATCHES functions. Each
 * entry says its type, where it lives in SQL, and how to use it (the reference in
 * docs/segments.md is written from the same facts).
 */
export type AttributeType = 'money' | 'integer' | 'number' | 'timestamp' | 'date' | 'text' | 'list' | 'enum';

export interface AttributeSpec {
  name: string;
  type: AttributeType;
  /** SQL over the customer facts row `f` or the customer row `c`. */
  column: string;
  nullable: boolean;
  description: string;
  example: string;
  /** For enums: value name -> SQL predicate over `c`. */
  values?: Record<string, string>;
  /** How values are normalised before comparing (stored data is normalised the same way). */
  normalize?: (value: string) => string;
  /** A left join the column needs (a plugin's table), keyed on `f.customer_id`. */
  join?: string;
}

export const ATTRIBUTES: readonly AttributeSpec[] = [
  {
    name: 'amount_spent',
    type: 'money',
    column: 'f.total_spent_minor',
    nullable: false,
    description: 'Total of the placed orders, in the shop currency (0 without orders).',
    example: 'amount_spent >= 10000',
  },
  { name: 'number_of_orders', type: 'integer', column: 'f.orders_count', nullable: false, description: 'Number of placed orders.', example: 'number_of_orders >= 2' },
  {
    name: 'average_order_value',
    type: 'money',
    column: 'f.average_order_value_minor',
    nullable: false,
    description: 'amount_spent / number_of_orders (0 without orders).',
    example: 'average_order_value BETWEEN 3000 AND 8000',
  },
  {
    name: 'first_order_date',
    type: 'timestamp',
    column: 'f.first_order_at',
    nullable: true,
    description: 'Date of the first placed order, in the shop time zone (NULL without orders).',
    example: 'first_order_date >= 2026-01-01',
  },
  {
    name: 'last_order_date',
    type: 'timestamp',
    column: 'f.last_order_at',
    nullable: true,
    description: 'Date of the latest placed order, in the shop time zone (NULL without orders).',
    example: 'last_order_date < -90d',
  },
  {
    name: 'customer_added_date',
    type: 'timestamp',
    column: 'f.added_at',
    nullable: false,
    description: 'When the customer joined the shop (CustomerInput.createdAt), else when Kokyaku first heard of them.',
    example: 'customer_added_date > -30d',
  },
  { name: 'birthday', type: 'date', column: 'f.birthday', nullable: true, description: 'Date of birth.', example: 'birthday < 1990-01-01' },
  {
    name: 'rfm_group',
    type: 'enum',
    column: 's.rfm_group',
    nullable: false,
    description: 'RFM group (docs/analytics.md); PROSPECTS for customers without orders.',
    example: 'rfm_group = AT_RISK',
    values: Object.fromEntries(RFM_GROUPS.map((g) => [g, `coalesce(s.rfm_group, 'PROSPECTS') = '${g}'`])),
  },
  {
    name: 'recency_score',
    type: 'integer',
    column: 's.recency_score',
    nullable: true,
    description: 'RFM recency score 1-5 (5 = ordered most recently; NULL without orders).',
    example: 'recency_score >= 4',
  },
  {
    name: 'frequency_score',
    type: 'integer',
    column: 's.frequency_score',
    nullable: true,
    description: 'RFM frequency score 1-5 (5 = orders most often).',
    example: 'frequency_score = 5',
  },
  { name: 'monetary_score', type: 'integer', column: 's.monetary_score', nullable: true, description: 'RFM monetary score 1-5 (5 = spends most).', example: 'monetary_score >= 4' },
  { name: 'decile', type: 'integer', column: 's.decile', nullable: true, description: 'Spend decile 1-10 over all customers who ordered (1 = top 10%).', example: 'decile <= 2' },
  {
    name: 'predicted_clv',
    type: 'money',
    column: 's.predicted_clv_minor',
    nullable: true,
    description: 'Predicted spend over the CLV horizon (BG/NBD x Gamma-Gamma; NULL until a model is fitted).',
    example: 'predicted_clv >= 20000',
  },
  { name: 'churn_risk', type: 'number', column: 's.churn_risk', nullable: true, description: '1 - P(alive) under BG/NBD, from 0 to 1.', example: 'churn_risk > 0.7' },
  {
    name: 'average_days_between_orders',
    type: 'number',
    column: 'f.average_days_between_orders',
    nullable: true,
    description: 'Days from first to last order / (orders - 1) (NULL below 2 orders).',
    example: 'average_days_between_orders < 30',
  },
  { name: 'customer_tags', type: 'list', column: 'f.tags', nullable: false, description: 'The customer tags (exact, case-sensitive).', example: "customer_tags CONTAINS 'vip'" },
  {
    name: 'email_subscription_status',
    type: 'enum',
    column: 'f.email_consent',
    nullable: false,
    description: 'SUBSCRIBED when the customer consented to email, else NOT_SUBSCRIBED.',
    example: 'email_subscription_status = SUBSCRIBED',
    values: { SUBSCRIBED: 'f.email_consent', NOT_SUBSCRIBED: 'not f.email_consent' },
  },
  {
    name: 'score',
    type: 'number',
    column: 'coalesce(ls.score, 0)',
    nullable: false,
    description: 'Lead score from the scoring rules (docs/crm.md); 0 when no rule scores the customer.',
    example: 'score >= 50',
  },
  {
    name: 'score_band',
    type: 'enum',
    column: 'ls.band',
    nullable: false,
    description: "HOT, WARM or COLD by the shop's score thresholds (COLD without a score).",
    example: 'score_band = HOT',
    // Never NULL (a customer without a score row is COLD); HOT and WARM can use the band index.
    values: { HOT: `(ls.band is not null and ls.band = 'HOT')`, WARM: `(ls.band is not null and ls.band = 'WARM')`, COLD: `coalesce(ls.band, 'COLD') = 'COLD'` },
  },
  {
    name: 'email',
    type: 'text',
    column: 'c.email',
    nullable: true,
    description: 'Email address (lower case).',
    example: "email = 'hanako@example.jp'",
    normalize: (v) => v.trim().toLowerCase(),
  },
  {
    name: 'email_domain',
    type: 'text',
    column: 'f.email_domain',
    nullable: true,
    description: 'The part of the email address after @.',
    example: "email_domain = 'example.jp'",
    normalize: (v) => v.trim().toLowerCase().replace(/^@/, ''),
  },
  { name: 'first_name', type: 'text', column: 'c.first_name', nullable: true, description: 'Given name.', example: "first_name = 'Hanako'" },
  { name: 'last_name', type: 'text', column: 'c.last_name', nullable: true, description: 'Family name.', example: "last_name = '山田'" },
  { name: 'city', type: 'text', column: 'f.city', nullable: true, description: 'City.', example: "city = '横浜市'" },
  { name: 'region', type: 'text', column: 'f.region', nullable: true, description: 'Region, state or prefecture.', example: "region = '神奈川県'" },
  {
    name: 'country',
    type: 'text',
    column: 'f.country',
    nullable: true,
    description: 'Country (two-letter codes are upper case).',
    example: "country = 'JP'",
    normalize: (v) => (/^[a-z]{2}$/i.test(v.trim()) ? v.trim().toUpperCase() : v.trim()),
  },
];

export type ArgumentType = 'money' | 'integer' | 'timestamp' | 'text';

export interface FunctionArgumentSpec {
  name: string;
  type: ArgumentType;
  /** 'filter' narrows the rows; 'aggregate' tests the total per customer. */
  role: 'filter' | 'aggregate';
  description: string;
}

export interface FunctionSpec {
  name: string;
  description: string;
  example: string;
  args: readonly FunctionArgumentSpec[];
}

/**
 * A MATCHES function of a plugin: rows of one of its tables (alias `r`, with `tenant_id` and
 * `customer_id`), filtered by its arguments and totalled per customer.
 */
export interface PluginFunctionSpec extends FunctionSpec {
  /** `kokyaku.<table>`: read as `r`. */
  table: string;
  /** Filter arguments: the column of `r` each compares. */
  columns: Record<string, string>;
  /** Aggregate arguments: the SQL total each compares (`count` is `count(*)`). */
  totals: Record<string, string>;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'products_purchased',
    description: 'Placed orders with lines of matching products.',
    example: "products_purchased MATCHES (category = 'coffee', date > -30d, count >= 2)",
    args: [
      { name: 'product', type: 'text', role: 'filter', description: "the product's shop id" },
      { name: 'category', type: 'text', role: 'filter', description: 'one of the product categories' },
      { name: 'tag', type: 'text', role: 'filter', description: 'one of the product tags' },
      { name: 'date', type: 'timestamp', role: 'filter', description: 'the order date' },
      { name: 'count', type: 'integer', role: 'aggregate', description: 'number of orders with a matching line (default >= 1)' },
      { name: 'sum_quantity', type: 'integer', role: 'aggregate', description: 'total quantity of the matching lines' },
    ],
  },
  {
    name: 'orders_placed',
    description: 'Placed orders.',
    example: 'orders_placed MATCHES (date > -90d, amount >= 5000, count >= 2)',
    args: [
      { name: 'date', type: 'timestamp', role: 'filter', description: 'the order date' },
      { name: 'amount', type: 'money', role: 'filter', description: "one order's amount" },
      { name: 'count', type: 'integer', role: 'aggregate', description: 'number of matching orders (default >= 1)' },
      { name: 'sum_amount', type: 'money', role: 'aggregate', description: 'total amount of the matching orders' },
    ],
  },
  {
    name: 'events',
    description: 'Storefront events of the customer.',
    example: "events MATCHES (type = 'product_viewed', product = 'SKU-1', date > -7d, count >= 3)",
    args: [
      { name: 'type', type: 'text', role: 'filter', description: 'the event type' },
      { name: 'product', type: 'text', role: 'filter', description: "the product's shop id" },
      { name: 'date', type: 'timestamp', role: 'filter', description: 'when the event happened' },
      { name: 'count', type: 'integer', role: 'aggregate', description: 'number of matching events (default >= 1)' },
    ],
  },
];

/** Subjects written as a call: `anniversary(birthday) BETWEEN today AND +7d`. */
export const CALLS = {
  anniversary: {
    description: 'The next yearly return of a date (February 29 falls on February 28 in other years).',
    example: 'anniversary(birthday) BETWEEN today AND +7d',
    args: ['birthday', 'first_order_date', 'customer_added_date'],
  },
} as const;

export const attributeByName = new Map(ATTRIBUTES.map((a) => [a.name, a]));
export const functionByName = new Map(FUNCTIONS.map((f) => [f.name, f]));

/** What plugins add to the segment language (the plugin registry has it). */
export interface SegmentExtensions {
  readonly attributes: ReadonlyMap<string, AttributeSpec>;
  readonly functions: ReadonlyMap<string, PluginFunctionSpec & { plugin: string }>;
}

export const NO_SEGMENT_EXTENSIONS: SegmentExtensions = { attributes: new Map(), functions: new Map() };
