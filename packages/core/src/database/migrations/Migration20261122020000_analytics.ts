import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics. Scores live in their own narrow table, `customer_scores` (RFM, decile, BG/NBD /
 * Gamma-Gamma predictions): a refresh rewrites many of them at once, and keeping those writes
 * away from `customer_facts` keeps the facts table and its covering indexes compact for segment
 * counts. Per-tenant analytics state holds the score cut points and the model fits.
 */
export class Migration20261122020000_analytics extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.customer_facts add column average_days_between_orders real`);
    this.addSql(`
      create table kokyaku.customer_scores (
        customer_id bigint primary key references kokyaku.customers (id) on delete cascade,
        tenant_id text not null,
        recency_score smallint,
        frequency_score smallint,
        monetary_score smallint,
        rfm_group text not null default 'PROSPECTS',
        decile smallint,
        expected_purchases real,
        probability_alive real,
        churn_risk real,
        predicted_clv_minor bigint
      ) with (fillfactor = 80)`);
    this.addSql(`create index customer_score_rfm_group_idx on kokyaku.customer_scores (tenant_id, rfm_group)`);
    this.addSql(`create index customer_score_decile_idx on kokyaku.customer_scores (tenant_id, decile)`);
    this.addSql(`
      create table kokyaku.analytics_state (
        tenant_id text primary key,
        rfm_cuts jsonb,
        decile_cuts jsonb,
        scored_at timestamptz,
        clv_model jsonb,
        clv_fitted_at timestamptz
      )`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists kokyaku.analytics_state, kokyaku.customer_scores`);
    this.addSql(`alter table kokyaku.customer_facts drop column average_days_between_orders`);
  }
}
