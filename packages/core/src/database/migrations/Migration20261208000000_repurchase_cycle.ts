import { Migration } from '@mikro-orm/migrations';

/**
 * Repeat-aware recommendations: each product's repurchase cycle (the median days between one
 * customer's purchases of it, measured at each rebuild) and the FOR_CUSTOMER repeat weight
 * measured per shop next to the popularity weight.
 */
export class Migration20261208000000_repurchase_cycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.product_stats add column cycle_days real`);
    this.addSql(`alter table kokyaku.recommendation_state add column repeat_weight real`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kokyaku.product_stats drop column if exists cycle_days`);
    this.addSql(`alter table kokyaku.recommendation_state drop column if exists repeat_weight`);
  }
}
