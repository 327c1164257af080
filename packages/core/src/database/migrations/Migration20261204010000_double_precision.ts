import { Migration } from '@mikro-orm/migrations';

/**
 * Figures computed in JavaScript are doubles: stored as `real` (float4), a probability of alive
 * of 1e-46 (a frequent buyer gone for years) or a tiny neighbour score is out of range and fails
 * the whole refresh. They are stored as double precision, which holds every value JavaScript has.
 */
export class Migration20261204010000_double_precision extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kokyaku.customer_scores
      alter column expected_purchases type double precision,
      alter column probability_alive type double precision,
      alter column churn_risk type double precision`);
    this.addSql(`alter table kokyaku.product_neighbours alter column score type double precision`);
    this.addSql(`alter table kokyaku.recommendation_state alter column blend type double precision`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kokyaku.customer_scores
      alter column expected_purchases type real, alter column probability_alive type real, alter column churn_risk type real`);
    this.addSql(`alter table kokyaku.product_neighbours alter column score type real`);
    this.addSql(`alter table kokyaku.recommendation_state alter column blend type real`);
  }
}
