import type { SegmentAttribute } from '../module/segment-language.js';

/**
 * The segment language's attributes over the customer facts `f`: the metrics module's row per
 * customer, the table every segment starts from.
 */
export const FACTS_ATTRIBUTES: readonly SegmentAttribute[] = [
  {
    name: 'amount_spent',
    type: 'money',
    sql: 'f.total_spent_minor',
    description: 'Total of the placed orders, in the shop currency (0 without orders).',
    example: 'amount_spent >= 10000',
  },
  { name: 'number_of_orders', type: 'integer', sql: 'f.orders_count', description: 'Number of placed orders.', example: 'number_of_orders >= 2' },
  {
    name: 'average_order_value',
    type: 'money',
    sql: 'f.average_order_value_minor',
    description: 'amount_spent / number_of_orders (0 without orders).',
    example: 'average_order_value BETWEEN 3000 AND 8000',
  },
  { name: 'birthday', type: 'date', sql: 'f.birthday', nullable: true, description: 'Date of birth.', example: 'birthday < 1990-01-01', anniversary: 'f.birthday_mmdd' },
  {
    name: 'first_order_date',
    type: 'timestamp',
    sql: 'f.first_order_at',
    nullable: true,
    description: 'Date of the first placed order, in the shop time zone (NULL without orders).',
    example: 'first_order_date >= 2026-01-01',
    anniversary: true,
  },
  {
    name: 'last_order_date',
    type: 'timestamp',
    sql: 'f.last_order_at',
    nullable: true,
    description: 'Date of the latest placed order, in the shop time zone (NULL without orders).',
    example: 'last_order_date < -90d',
  },
  {
    name: 'customer_added_date',
    type: 'timestamp',
    sql: 'f.added_at',
    description: 'When the customer joined the shop (CustomerInput.createdAt), else when Kokyaku first heard of them.',
    example: 'customer_added_date > -30d',
    anniversary: true,
  },
  {
    name: 'average_days_between_orders',
    type: 'number',
    sql: 'f.average_days_between_orders',
    nullable: true,
    description: 'Days from first to last order / (orders - 1) (NULL below 2 orders).',
    example: 'average_days_between_orders < 30',
  },
  { name: 'customer_tags', type: 'list', sql: 'f.tags', description: 'The customer tags (exact, case-sensitive).', example: "customer_tags CONTAINS 'vip'" },
  {
    name: 'email_subscription_status',
    type: 'enum',
    sql: 'f.email_consent',
    description: 'SUBSCRIBED when the customer consented to email, else NOT_SUBSCRIBED.',
    example: 'email_subscription_status = SUBSCRIBED',
    values: { SUBSCRIBED: 'f.email_consent', NOT_SUBSCRIBED: 'not f.email_consent' },
  },
  {
    name: 'email_domain',
    type: 'text',
    sql: 'f.email_domain',
    nullable: true,
    description: 'The part of the email address after @.',
    example: "email_domain = 'example.jp'",
    normalize: (v) => v.trim().toLowerCase().replace(/^@/, ''),
  },
  { name: 'city', type: 'text', sql: 'f.city', nullable: true, description: 'City.', example: "city = '横浜市'" },
  { name: 'region', type: 'text', sql: 'f.region', nullable: true, description: 'Region, state or prefecture.', example: "region = '神奈川県'" },
  {
    name: 'country',
    type: 'text',
    sql: 'f.country',
    nullable: true,
    description: 'Country (two-letter codes are upper case).',
    example: "country = 'JP'",
    normalize: (v) => (/^[a-z]{2}$/i.test(v.trim()) ? v.trim().toUpperCase() : v.trim()),
  },
];
