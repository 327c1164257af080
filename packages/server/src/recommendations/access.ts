import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the recommendations types (security/access.ts explains the rules). */
export const RECOMMENDATIONS_ACCESS: Record<string, Record<string, AccessRule>> = {
  Recommendation: inherit('product', 'score', 'reason', 'strategy'),
  RecommendationEvaluation: inherit('k', 'asOf', 'replayedCustomers', 'eligibleCustomers', 'customers', 'rows'),
  RecommendationEvaluationRow: inherit('strategy', 'popularityWeight', 'customers', 'hitRate', 'recall', 'ndcg'),
};
