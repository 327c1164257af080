import type { SegmentAttribute } from '../module/segment-language.js';
import { RFM_GROUPS } from '../shared/rfm.js';

/** RFM scores, deciles and CLV predictions of a customer (`s`, the customer's scores row). */
const scores = { table: 'kokyaku.customer_scores', alias: 's', on: 's.customer_id = f.customer_id' };

export const SCORE_ATTRIBUTES: readonly SegmentAttribute[] = [
  {
    name: 'rfm_group',
    type: 'enum',
    join: scores,
    sql: 's.rfm_group',
    description: 'RFM group (docs/analytics.md); PROSPECTS for customers without orders.',
    example: 'rfm_group = AT_RISK',
    values: Object.fromEntries(RFM_GROUPS.map((g) => [g, `coalesce(s.rfm_group, 'PROSPECTS') = '${g}'`])),
  },
  {
    name: 'recency_score',
    type: 'integer',
    join: scores,
    sql: 's.recency_score',
    nullable: true,
    description: 'RFM recency score 1-5 (5 = ordered most recently; NULL without orders).',
    example: 'recency_score >= 4',
  },
  {
    name: 'frequency_score',
    type: 'integer',
    join: scores,
    sql: 's.frequency_score',
    nullable: true,
    description: 'RFM frequency score 1-5 (5 = orders most often).',
    example: 'frequency_score = 5',
  },
  {
    name: 'monetary_score',
    type: 'integer',
    join: scores,
    sql: 's.monetary_score',
    nullable: true,
    description: 'RFM monetary score 1-5 (5 = spends most).',
    example: 'monetary_score >= 4',
  },
  {
    name: 'decile',
    type: 'integer',
    join: scores,
    sql: 's.decile',
    nullable: true,
    description: 'Spend decile 1-10 over all customers who ordered (1 = top 10%).',
    example: 'decile <= 2',
  },
  {
    name: 'predicted_clv',
    type: 'money',
    join: scores,
    sql: 's.predicted_clv_minor',
    nullable: true,
    description: 'Predicted spend over the CLV horizon (BG/NBD x Gamma-Gamma; NULL until a model is fitted).',
    example: 'predicted_clv >= 20000',
  },
  { name: 'churn_risk', type: 'number', join: scores, sql: 's.churn_risk', nullable: true, description: '1 - P(alive) under BG/NBD, from 0 to 1.', example: 'churn_risk > 0.7' },
];
