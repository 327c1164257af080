import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the recommendations types (security/access.ts explains the rules). */
export const RECOMMENDATIONS_ACCESS: Record<string, Record<string, AccessRule>> = {
  Recommendation: inherit('product', 'score', 'reason', 'strategy', 'dueOn'),
  RecommendationEvaluation: inherit('k', 'asOf', 'replayedCustomers', 'eligibleCustomers', 'customers', 'repeatShare', 'rows', 'baselines', 'blend'),
  RecommendationBlend: inherit('popularityWeight', 'repeatWeight', 'cycles', 'measuredAt', 'rows'),
  RecommendationEvaluationRow: inherit('strategy', 'popularityWeight', 'repeatWeight', 'cycles', 'customers', 'hitRate', 'recall', 'ndcg', 'repeat', 'explore'),
  RecommendationBaselineRow: inherit('baseline', 'customers', 'hitRate', 'recall', 'ndcg', 'repeat', 'explore'),
  RecommendationEvaluationScores: inherit('hitRate', 'recall', 'ndcg'),
};
