import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the analytics types (security/access.ts explains the rules). */
export const ANALYTICS_ACCESS: Record<string, Record<string, AccessRule>> = {
  RfmScores: inherit('recency', 'frequency', 'monetary', 'group'),
  // Analytics reports: aggregates over many customers, no one's personal data.
  RfmReport: inherit('customers', 'revenue', 'cells', 'groups'),
  RfmCell: inherit('recency', 'fm', 'group', 'customers', 'revenue'),
  RfmGroupSummary: inherit('group', 'customers', 'customerShare', 'revenue', 'revenueShare'),
  DecileReport: inherit('from', 'to', 'customers', 'revenue', 'deciles'),
  DecileRow: inherit('decile', 'customers', 'revenue', 'share', 'cumulativeShare', 'minSpend', 'maxSpend'),
  CohortReport: inherit('from', 'to', 'cohorts'),
  Cohort: inherit('cohort', 'customers', 'retention'),
  CohortRetention: inherit('month', 'customers', 'rate'),
  RepeatPurchaseReport: inherit('customers', 'repeatCustomers', 'repeatRate', 'averageDaysToSecondOrder', 'medianDaysToSecondOrder'),
  KpiReport: inherit('from', 'to', 'period', 'periods'),
  KpiPeriod: inherit('start', 'revenue', 'orders', 'averageOrderValue', 'newCustomers', 'returningCustomers', 'repeatRate'),
  CampaignReport: inherit('revenue', 'orders', 'cost', 'roas', 'roi'),
  ClvModel: inherit('fittedAt', 'calibrationEnd', 'horizonMonths', 'annualDiscountRate', 'bgnbd', 'gammaGamma', 'warnings'),
  BgNbdFit: inherit('r', 'alpha', 'a', 'b', 'logLikelihood', 'customers'),
  GammaGammaFit: inherit('p', 'q', 'gamma', 'logLikelihood', 'customers'),
};
