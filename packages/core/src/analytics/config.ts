import type { RfmGrid } from '../shared/rfm.js';

export interface AnalyticsConfig {
  /** (R, FM) cell -> RFM group; see docs/analytics.md. */
  rfmGrid: RfmGrid;
  clv: {
    /** Prediction horizon of predictedClv (default 12 months). */
    horizonMonths: number;
    /** Yearly discount rate applied month by month (default 0: no discounting). */
    annualDiscountRate: number;
    /** Largest number of customers the models are fitted on (a deterministic sample above it). */
    sampleSize: number;
    /** Below this many customers with orders (or 20 with repeat purchases) no model is fitted. */
    minCustomers: number;
  };
}
