import { Migration } from '@mikro-orm/migrations';

/**
 * Import warnings: a staged row keeps the optional values that were left out of it (a phone
 * that is no phone), so that the row is stored and the run reports each value by line.
 */
export class Migration20261204000000_import_warnings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.import_rows add column warnings jsonb`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kokyaku.import_rows drop column if exists warnings`);
  }
}
