import { Migration } from '@mikro-orm/migrations';
import { tenantIsolation } from './Migration20261122080000_tenant_isolation.js';

/**
 * Identity resolution: when customers are merged, the shop ids of the merged-away rows keep
 * naming the survivor, so later orders, events and upserts under either id land on one customer.
 */
export class Migration20261122110000_identity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kokyaku.customer_aliases (
        tenant_id text not null,
        external_id text not null,
        customer_id bigint not null references kokyaku.customers (id) on delete cascade,
        merged_at timestamptz not null default now(),
        primary key (tenant_id, external_id)
      )`);
    this.addSql(`create index customer_alias_customer_idx on kokyaku.customer_aliases (customer_id)`);
    this.addSql(`do $$ begin ${tenantIsolation('%I', `'customer_aliases'`)} end $$`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists kokyaku.customer_aliases`);
  }
}
