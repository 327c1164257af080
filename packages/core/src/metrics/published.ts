/**
 * What the metrics module publishes for other modules' SQL: the customer facts, one row per
 * customer (`f`), which segments, reports and journeys read (docs/architecture.md).
 */
export const FACTS_FROM = 'kokyaku.customer_facts f';

/** Facts rows for new customers (`id` of `source`, in the shop `$1`), inside the statement that creates them. */
export const newFactsRows = (source: string): string => `insert into kokyaku.customer_facts (customer_id, tenant_id, added_at) select id, $1, now() from ${source}`;
