import { asDate } from '../shared/sql.js';
import type { RfmGroup } from '../shared/rfm.js';
import { toMajorUnits } from '../shared/money.js';
import type { CustomerRecord } from './customer.service.js';

export interface CustomerRow {
  id: string;
  external_id: string;
  erased_at: Date | string | null;
  marketing_objection_at: Date | string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  first_name_kana: string | null;
  last_name_kana: string | null;
  birthday: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  tags: string[];
  custom_fields: Record<string, unknown>;
  email_consent: boolean;
  line_user_id: string | null;
  preferred_channel: 'EMAIL' | 'LINE' | 'SMS' | null;
  placeholder: boolean;
  created_at: Date;
  updated_at: Date;
  orders_count: number;
  total_spent_minor: string;
  average_order_value_minor: string;
  average_days_between_orders: number | null;
  recency_score: number | null;
  frequency_score: number | null;
  monetary_score: number | null;
  rfm_group: RfmGroup;
  decile: number | null;
  predicted_clv_minor: string | null;
  churn_risk: number | null;
  probability_alive: number | null;
  expected_purchases: number | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
}

/** Columns of a customer with its metrics, selected from CUSTOMER_FROM. */
export const CUSTOMER_COLUMNS = `c.id::text as id, c.external_id, c.email, c.phone, c.first_name, c.last_name, c.first_name_kana, c.last_name_kana,
  to_char(c.birthday, 'YYYY-MM-DD') as birthday, c.city, c.region, c.country, c.tags, c.custom_fields,
  c.email_consent, c.line_user_id, c.preferred_channel, c.placeholder, c.created_at, c.updated_at, c.erased_at, c.marketing_objection_at,
  f.orders_count, f.total_spent_minor, f.average_order_value_minor, f.first_order_at, f.last_order_at,
  f.average_days_between_orders, s.recency_score, s.frequency_score, s.monetary_score,
  coalesce(s.rfm_group, 'PROSPECTS') as rfm_group, s.decile,
  s.predicted_clv_minor, s.churn_risk, s.probability_alive, s.expected_purchases`;

/** The aliases `CUSTOMER_FROM` reads: the customer, their facts and their scores. */
export const CUSTOMER_ALIASES: readonly string[] = ['c', 'f', 's'];

export const CUSTOMER_FROM = `kokyaku.customers c join kokyaku.customer_facts f on f.tenant_id = c.tenant_id and f.customer_id = c.id
  left join kokyaku.customer_scores s on s.tenant_id = c.tenant_id and s.customer_id = c.id`;

export function mapCustomer(row: CustomerRow, currency: string): CustomerRecord {
  const ordersCount = row.orders_count;
  const totalSpentMinor = Number(row.total_spent_minor);
  const averageOrderValueMinor = Number(row.average_order_value_minor);
  return {
    id: row.id,
    externalId: row.external_id,
    email: row.email,
    phone: row.phone,
    firstName: row.first_name,
    lastName: row.last_name,
    firstNameKana: row.first_name_kana,
    lastNameKana: row.last_name_kana,
    birthday: row.birthday,
    city: row.city,
    region: row.region,
    country: row.country,
    tags: row.tags,
    customFields: row.custom_fields,
    emailConsent: row.email_consent,
    lineUserId: row.line_user_id,
    preferredChannel: row.preferred_channel,
    placeholder: row.placeholder,
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    erasedAt: asDate(row.erased_at),
    marketingObjectionAt: asDate(row.marketing_objection_at),
    metrics: {
      ordersCount,
      totalSpentMinor,
      totalSpent: toMajorUnits(totalSpentMinor, currency),
      averageOrderValueMinor,
      averageOrderValue: toMajorUnits(averageOrderValueMinor, currency),
      firstOrderAt: asDate(row.first_order_at),
      lastOrderAt: asDate(row.last_order_at),
      averageDaysBetweenOrders: row.average_days_between_orders,
      isRepeatCustomer: ordersCount >= 2,
      rfm: { recency: row.recency_score, frequency: row.frequency_score, monetary: row.monetary_score, group: row.rfm_group },
      decile: row.decile,
      predictedClv: row.predicted_clv_minor === null ? null : toMajorUnits(Number(row.predicted_clv_minor), currency),
      churnRisk: row.churn_risk,
      probabilityAlive: row.probability_alive,
      expectedPurchases: row.expected_purchases,
      currency,
    },
  };
}
