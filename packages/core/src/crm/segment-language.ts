import type { SegmentAttribute } from '../module/segment-language.js';

/** The lead score `ls`: it changes with activity (events, inquiries), not only with orders. */
const leadScores = { table: 'kokyaku.lead_scores', alias: 'ls', on: 'ls.customer_id = f.customer_id' };

export const LEAD_SCORE_ATTRIBUTES: readonly SegmentAttribute[] = [
  {
    name: 'score',
    type: 'number',
    sql: 'coalesce(ls.score, 0)',
    description: 'Lead score from the scoring rules (docs/crm.md); 0 when no rule scores the customer.',
    example: 'score >= 50',
    join: leadScores,
    activity: true,
  },
  {
    name: 'score_band',
    type: 'enum',
    sql: 'ls.band',
    description: "HOT, WARM or COLD by the shop's score thresholds (COLD without a score).",
    example: 'score_band = HOT',
    // Never NULL (a customer without a score row is COLD); HOT and WARM can use the band index.
    values: { HOT: `(ls.band is not null and ls.band = 'HOT')`, WARM: `(ls.band is not null and ls.band = 'WARM')`, COLD: `coalesce(ls.band, 'COLD') = 'COLD'` },
    join: leadScores,
    activity: true,
  },
];
