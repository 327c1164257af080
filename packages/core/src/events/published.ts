/**
 * What the events module publishes for other modules' SQL besides its table's read contract
 * (docs/architecture.md).
 */

/**
 * Copies the events of the shop `$1` into the tenant `$2` (a scratch tenant), without their
 * properties, for the customers and products copied there; a customer's events from the time
 * `cutoffs` gives them on (`customer_id, placed_at`) stay behind.
 */
export const copyEventsBefore = (cutoffs: string): string => `insert into kokyaku.events (tenant_id, event_id, type, customer_id, product_id, occurred_at, properties)
  select $2, e.event_id, e.type, nc.id, np.id, e.occurred_at, '{}'::jsonb
  from kokyaku.events e
  join kokyaku.customers c on c.tenant_id = e.tenant_id and c.id = e.customer_id
  join kokyaku.customers nc on nc.tenant_id = $2 and nc.external_id = c.external_id
  left join kokyaku.products pr on pr.tenant_id = e.tenant_id and pr.id = e.product_id
  left join kokyaku.products np on np.tenant_id = $2 and np.external_id = pr.external_id
  left join ${cutoffs} h on h.customer_id = e.customer_id
  where e.tenant_id = $1 and (h.placed_at is null or e.occurred_at < h.placed_at)`;
