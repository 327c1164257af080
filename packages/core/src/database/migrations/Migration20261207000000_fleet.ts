import { Migration } from '@mikro-orm/migrations';

/**
 * What a fleet of Kokyaku processes on one database shares (docs/scaling.md):
 * - `rate_limits`: the budget of costly GraphQL operations per tenant and actor (the table of
 *   rate-limiter-flexible's PostgreSQL store), so that every server spends from one budget;
 * - `scheduled_runs`: which process took each slot of a scheduled job (the refresh), so that
 *   each slot runs once in the whole fleet.
 * Neither holds tenant rows: their keys name the tenant.
 */
export class Migration20261207000000_fleet extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table kokyaku.rate_limits (key varchar(255) primary key, points integer not null default 0, expire bigint)`);
    this.addSql(`create index rate_limits_expire_idx on kokyaku.rate_limits (expire)`);
    this.addSql(`create table kokyaku.scheduled_runs (
      job text not null,
      slot bigint not null,
      process text not null,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (job, slot)
    )`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists kokyaku.scheduled_runs`);
    this.addSql(`drop table if exists kokyaku.rate_limits`);
  }
}
