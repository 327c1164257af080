import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics: per-customer scores in customer_facts (RFM, decile, BG/NBD / Gamma-Gamma predictions,
 * average days between orders) and per-tenant analytics state (score cut points, model fits).
 */
export class Migration20261122020000_analytics extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table kokyaku.customer_facts
        add column average_days_between_orders real,
        add column recency_score smallint,
        add column frequency_score smallint,
        add column monetary_score smallint,
        add column rfm_group text not null default 'PROSPECTS',
        add column decile smallint,
        add column expected_purchases real,
        add column probability_alive real,
        add column predicted_clv_minor bigint,
        add column churn_risk real`);
    this.addSql(`create index customer_fact_rfm_group_idx on kokyaku.customer_facts (tenant_id, rfm_group)`);
    this.addSql(`create index customer_fact_decile_idx on kokyaku.customer_facts (tenant_id, decile)`);
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
    this.addSql(`drop table if exists kokyaku.analytics_state`);
    this.addSql(`drop index if exists kokyaku.customer_fact_rfm_group_idx, kokyaku.customer_fact_decile_idx`);
    this.addSql(`
      alter table kokyaku.customer_facts
        drop column average_days_between_orders, drop column recency_score, drop column frequency_score,
        drop column monetary_score, drop column rfm_group, drop column decile, drop column expected_purchases,
        drop column probability_alive, drop column predicted_clv_minor, drop column churn_risk`);
  }
}
