import { Migration } from '@mikro-orm/migrations';

/**
 * Repeat-aware recommendations: each product's repurchase cycle (the median days between one
 * customer's purchases of it, measured at each rebuild), the FOR_CUSTOMER repeat weight measured
 * per shop next to the popularity weight (and whether cycles hold items back), and `customer_product_cycles`: when each customer is
 * expected to buy each product again (their own interval after two purchases, else the product's
 * cycle; the segment function `due_to_rebuy` reads it, BUY_AGAIN computes the same in repeat.ts).
 * The view reads its tables as the caller (`security_invoker`, PostgreSQL 15 and later), so each
 * shop's row-level security holds through it.
 */
export class Migration20261208000000_repurchase_cycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.product_stats add column cycle_days real`);
    this.addSql(`alter table kokyaku.recommendation_state add column repeat_weight real, add column cycles boolean`);
    this.addSql(`
      create view kokyaku.customer_product_cycles with (security_invoker = true) as
      select x.tenant_id, x.customer_id, x.product_id, x.orders, x.last_at, x.cycle_days,
             x.last_at + make_interval(secs => 86400 * x.cycle_days) as due_at
      from (select cp.tenant_id, cp.customer_id, cp.product_id, cp.orders, cp.last_at,
                   case when cp.orders >= 2 then greatest(1, extract(epoch from cp.last_at - cp.first_at) / 86400 / (cp.orders - 1))
                        else s.cycle_days end as cycle_days
            from kokyaku.customer_products cp
            left join kokyaku.product_stats s on s.tenant_id = cp.tenant_id and s.product_id = cp.product_id) x
      where x.cycle_days is not null`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop view if exists kokyaku.customer_product_cycles`);
    this.addSql(`alter table kokyaku.product_stats drop column if exists cycle_days`);
    this.addSql(`alter table kokyaku.recommendation_state drop column if exists repeat_weight, drop column if exists cycles`);
  }
}
