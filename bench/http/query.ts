/**
 * The customer 360 request every server of the benchmark answers: a customer with its metrics,
 * RFM scores, saved segments and latest orders with their lines and products. The two hand-written
 * baselines return exactly the JSON Kokyaku returns (checked before anything is timed).
 */
export const CUSTOMER_360 = `query Customer360($id: ID!) {
  customer(id: $id) {
    id externalId email firstName lastName tags
    metrics {
      ordersCount totalSpent averageOrderValue firstOrderAt lastOrderAt decile
      rfm { recency frequency monetary group }
    }
    segments { id name }
    orders(first: 5) {
      totalCount
      pageInfo { hasNextPage }
      nodes { externalId placedAt status total lines { quantity unitPrice product { externalId name } } }
    }
  }
}`;

export const ORDERS_PER_PAGE = 5;

export type ServerKind = 'kokyaku' | 'apollo' | 'bare' | 'storefront-kokyaku' | 'storefront-bare' | 'tenants-kokyaku';
export const BENCH_TOKEN = 'bench-admin-token';

/** The hand-written statements of both baselines (what a competent developer writes by hand). */
export const SQL = {
  customers: `
    select c.id::text as id, c.external_id, c.email, c.first_name, c.last_name, c.tags,
           f.orders_count, f.total_spent_minor, f.average_order_value_minor, f.first_order_at, f.last_order_at,
           s.recency_score, s.frequency_score, s.monetary_score, coalesce(s.rfm_group, 'PROSPECTS') as rfm_group, s.decile
    from kokyaku.customers c
    join kokyaku.customer_facts f on f.customer_id = c.id
    left join kokyaku.customer_scores s on s.customer_id = c.id
    where c.tenant_id = 'default' and c.id = any($1::bigint[])`,
  segments: `
    select m.customer_id::text as customer_id, s.id::text as id, s.name
    from kokyaku.segment_members m join kokyaku.segments s on s.id = m.segment_id
    where m.tenant_id = 'default' and m.customer_id = any($1::bigint[])
    order by s.id`,
  orders: `
    select * from (
      select o.id::text as id, o.customer_id::text as customer_id, o.external_id, o.placed_at, o.status, o.total_minor,
             row_number() over (partition by o.customer_id order by o.placed_at desc, o.id desc) as rn
      from kokyaku.orders o
      where o.tenant_id = 'default' and o.customer_id = any($1::bigint[])
    ) ranked where rn <= $2
    order by customer_id, rn`,
  orderCounts: `
    select customer_id::text as customer_id, count(*)::int as n from kokyaku.orders
    where tenant_id = 'default' and customer_id = any($1::bigint[])
    group by customer_id`,
  lines: `
    select l.order_id::text as order_id, l.quantity, l.unit_price_minor, p.external_id as product_external_id, p.name as product_name
    from kokyaku.order_lines l join kokyaku.products p on p.id = l.product_id
    where l.tenant_id = 'default' and l.order_id = any($1::bigint[])
    order by l.order_id, l.position`,
};

export interface CustomerRow {
  id: string;
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  tags: string[];
  orders_count: number;
  total_spent_minor: string;
  average_order_value_minor: string;
  first_order_at: Date | null;
  last_order_at: Date | null;
  recency_score: number | null;
  frequency_score: number | null;
  monetary_score: number | null;
  rfm_group: string;
  decile: number | null;
}

export interface OrderRow {
  id: string;
  customer_id: string;
  external_id: string;
  placed_at: Date;
  status: string;
  total_minor: string;
}

/** The shop of the benchmark sells in yen: minor units are major units. */
export const yen = (minor: string | number) => Number(minor);

export function customerJson(c: CustomerRow) {
  return {
    id: c.id,
    externalId: c.external_id,
    email: c.email,
    firstName: c.first_name,
    lastName: c.last_name,
    tags: c.tags,
    metrics: {
      ordersCount: c.orders_count,
      totalSpent: yen(c.total_spent_minor),
      averageOrderValue: yen(c.average_order_value_minor),
      firstOrderAt: c.first_order_at?.toISOString() ?? null,
      lastOrderAt: c.last_order_at?.toISOString() ?? null,
      decile: c.decile,
      rfm: { recency: c.recency_score, frequency: c.frequency_score, monetary: c.monetary_score, group: c.rfm_group },
    },
  };
}

export function orderJson(o: OrderRow) {
  return { externalId: o.external_id, placedAt: o.placed_at.toISOString(), status: o.status, total: yen(o.total_minor) };
}
