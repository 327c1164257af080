import { Migration } from '@mikro-orm/migrations';

/**
 * Recommendations. Counts kept current on every recorded order (cancelled orders never count):
 * what each customer bought (`customer_products`), per product (`product_stats`), per day
 * (`product_daily`, for popular and trending), and per product pair (`product_pairs`: in the same
 * order, and by the same customer). From them, precomputed top-K neighbour lists
 * (`product_neighbours`) make a request an index lookup plus a small merge.
 */
export class Migration20261122030000_recommendations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kokyaku.customer_products (
        customer_id bigint not null references kokyaku.customers (id) on delete cascade,
        product_id bigint not null references kokyaku.products (id) on delete cascade,
        tenant_id text not null,
        orders integer not null,
        quantity integer not null,
        first_at timestamptz not null,
        last_at timestamptz not null,
        primary key (customer_id, product_id)
      )`);
    this.addSql(`create index customer_product_product_idx on kokyaku.customer_products (product_id)`);
    this.addSql(`
      create table kokyaku.product_stats (
        product_id bigint primary key references kokyaku.products (id) on delete cascade,
        tenant_id text not null,
        baskets integer not null default 0,
        customers integer not null default 0,
        repeat_customers integer not null default 0
      )`);
    this.addSql(`
      create table kokyaku.product_daily (
        product_id bigint not null references kokyaku.products (id) on delete cascade,
        day date not null,
        tenant_id text not null,
        baskets integer not null default 0,
        quantity integer not null default 0,
        primary key (product_id, day)
      )`);
    this.addSql(`create index product_daily_tenant_day_idx on kokyaku.product_daily (tenant_id, day)`);
    this.addSql(`
      create table kokyaku.product_pairs (
        product_a bigint not null references kokyaku.products (id) on delete cascade,
        product_b bigint not null references kokyaku.products (id) on delete cascade,
        tenant_id text not null,
        baskets integer not null default 0,
        customers integer not null default 0,
        primary key (product_a, product_b)
      )`);
    this.addSql(`
      create table kokyaku.product_neighbours (
        product_id bigint not null references kokyaku.products (id) on delete cascade,
        kind text not null check (kind in ('BOUGHT_TOGETHER', 'ALSO_BOUGHT', 'SIMILAR')),
        rank smallint not null,
        tenant_id text not null,
        neighbour_id bigint not null references kokyaku.products (id) on delete cascade,
        score real not null,
        support integer not null,
        primary key (product_id, kind, rank)
      )`);

    // Per tenant: how often each category's buyers buy an item again (decides "exclude purchased").
    this.addSql(`
      create table kokyaku.recommendation_state (
        tenant_id text primary key,
        repurchase jsonb not null,
        computed_at timestamptz not null default now()
      )`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists kokyaku.recommendation_state`);
    this.addSql(`drop table if exists kokyaku.product_neighbours, kokyaku.product_pairs, kokyaku.product_daily, kokyaku.product_stats, kokyaku.customer_products`);
  }
}
