import { Migration } from '@mikro-orm/migrations';

/**
 * The decile report's rollup: `spend` rows of `report_rollups` count the customers by what they
 * spent (bucket, in minor units) in the shop days [`spend_window_from`, `spend_window_to`] (the
 * decile report's default: the 12 months to today), which the refresh moves on to today. Shops
 * with rollups built before get theirs at the next refresh.
 */
export class Migration20261206000000_spend_window extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.report_rollups alter column bucket type bigint`);
    this.addSql(`alter table kokyaku.report_rollups drop constraint if exists report_rollups_kind_check`);
    this.addSql(`alter table kokyaku.report_rollups add constraint report_rollups_kind_check check (kind in ('day', 'week', 'month', 'cohort', 'buyers', 'gap', 'rfm', 'spend'))`);
    this.addSql(`alter table kokyaku.analytics_state add column spend_window_from date, add column spend_window_to date`);
    // The decile report reads the spend rows by amount, from the highest, without sorting them.
    this.addSql(`create index report_rollup_spend_idx on kokyaku.report_rollups (tenant_id, bucket) include (customers) where kind = 'spend'`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists kokyaku.report_rollup_spend_idx`);
    this.addSql(`delete from kokyaku.report_rollups where kind = 'spend'`);
    this.addSql(`alter table kokyaku.analytics_state drop column if exists spend_window_from, drop column if exists spend_window_to`);
    this.addSql(`alter table kokyaku.report_rollups drop constraint if exists report_rollups_kind_check`);
    this.addSql(`alter table kokyaku.report_rollups add constraint report_rollups_kind_check check (kind in ('day', 'week', 'month', 'cohort', 'buyers', 'gap', 'rfm'))`);
    this.addSql(`alter table kokyaku.report_rollups alter column bucket type integer`);
  }
}
