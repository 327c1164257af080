/**
 * What the metrics module publishes for other modules' SQL: the customer facts, one row per
 * customer (`f`), which segments, reports and journeys read (docs/architecture.md).
 */
export const FACTS_FROM = 'kokyaku.customer_facts f';
