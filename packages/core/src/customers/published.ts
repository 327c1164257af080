/**
 * What the customers module publishes for other modules' SQL besides its tables' read contract
 * (docs/architecture.md).
 */

/** Copies the customers of the shop `$1` whose ids `ids` selects into the tenant `$2` (a scratch tenant), by shop id. */
export const copyCustomers = (ids: string): string => `insert into kokyaku.customers (tenant_id, external_id, created_at)
  select $2, external_id, created_at from kokyaku.customers where tenant_id = $1 and id in (${ids})`;
