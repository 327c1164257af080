import { Migration } from '@mikro-orm/migrations';

/**
 * When the FOR_CUSTOMER blend was last measured, and on how many placed orders: `refresh`
 * measures it again only when the shop has grown by a tenth or a week has passed.
 */
export class Migration20261122070000_blend_schedule extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.recommendation_state add column blend_orders bigint, add column blend_measured_at timestamptz`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kokyaku.recommendation_state drop column if exists blend_orders, drop column if exists blend_measured_at`);
  }
}
