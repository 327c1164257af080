import { Migration } from '@mikro-orm/migrations';

/** The derived recommendation tables and the foreign keys they carried. */
const DERIVED_KEYS: [table: string, constraint: string][] = [
  ['customer_products', 'customer_products_customer_id_fkey'],
  ['customer_products', 'customer_products_product_id_fkey'],
  ['product_stats', 'product_stats_product_id_fkey'],
  ['product_daily', 'product_daily_product_id_fkey'],
  ['product_pairs', 'product_pairs_product_a_fkey'],
  ['product_pairs', 'product_pairs_product_b_fkey'],
  ['product_neighbours', 'product_neighbours_product_id_fkey'],
  ['product_neighbours', 'product_neighbours_neighbour_id_fkey'],
];

/**
 * Cheaper upkeep of the recommendation tables.
 *
 * - `product_neighbours_stale`: recomputing a product's top-K lists reads all its pairs, too much
 *   for every product of every recorded batch; ingestion marks the products here instead, and the
 *   first read of a marked product (or a catch-up, or the rebuild) recomputes its lists.
 * - `customer_product_changes`: a customer who starts (or stops) owning a product changes the
 *   customer-level pair counts of that product with everything they own, about a hundred pairs per
 *   order; ingestion logs the change here and a catch-up folds many of them at once.
 * - The derived tables lose their foreign keys: every row is computed from orders that already
 *   reference valid customers and products, and the per-row key checks tripled the cost of a
 *   rebuild. Code that deletes a customer or product deletes its derived rows too.
 */
export class Migration20261122040000_recommendation_upkeep extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kokyaku.product_neighbours_stale (
        product_id bigint primary key,
        tenant_id text not null,
        since timestamptz not null default now()
      )`);
    this.addSql(`create index product_neighbours_stale_tenant_idx on kokyaku.product_neighbours_stale (tenant_id)`);
    this.addSql(`
      create table kokyaku.customer_product_changes (
        id bigint generated always as identity primary key,
        tenant_id text not null,
        customer_id bigint not null,
        product_id bigint not null,
        delta smallint not null check (delta in (-1, 1))
      )`);
    this.addSql(`create index customer_product_changes_customer_idx on kokyaku.customer_product_changes (customer_id)`);
    for (const [table, constraint] of DERIVED_KEYS) this.addSql(`alter table kokyaku.${table} drop constraint if exists ${constraint}`);
    // The FOR_CUSTOMER popularity weight measured on the shop's history, and the measurement.
    this.addSql(`alter table kokyaku.recommendation_state add column blend real, add column blend_evaluation jsonb`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists kokyaku.product_neighbours_stale, kokyaku.customer_product_changes`);
    this.addSql(`alter table kokyaku.recommendation_state drop column if exists blend, drop column if exists blend_evaluation`);
    for (const [table, constraint] of DERIVED_KEYS) {
      const column = constraint.slice(table.length + 1, -'_fkey'.length);
      const target = column === 'customer_id' ? 'customers' : 'products';
      this.addSql(`alter table kokyaku.${table} add constraint ${constraint} foreign key (${column}) references kokyaku.${target} (id) on delete cascade`);
    }
  }
}
