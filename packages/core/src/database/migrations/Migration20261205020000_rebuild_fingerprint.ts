import { Migration } from '@mikro-orm/migrations';

/**
 * What the recommendations' last full rebuild was built from (a fingerprint of the orders,
 * products and purchase histories): the refresh rebuilds only when it changed.
 */
export class Migration20261205020000_rebuild_fingerprint extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.recommendation_state add column rebuilt_from text, add column rebuilt_at timestamptz`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kokyaku.recommendation_state drop column if exists rebuilt_from, drop column if exists rebuilt_at`);
  }
}
