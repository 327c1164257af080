/**
 * What the orders module publishes for other modules' SQL besides its tables' read contract
 * (docs/architecture.md).
 */

/**
 * Copies the placed orders of the shop `$1` into the tenant `$2` (a scratch tenant) but those
 * `except` selects, for the customers already copied there (matched by shop id).
 */
export const copyPlacedOrders = (
  except: string,
): string => `insert into kokyaku.orders (tenant_id, external_id, customer_id, placed_at, currency, status, total_minor, lines_digest)
  select $2, o.external_id, nc.id, o.placed_at, o.currency, o.status, o.total_minor, o.lines_digest
  from kokyaku.orders o
  join kokyaku.customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id
  join kokyaku.customers nc on nc.tenant_id = $2 and nc.external_id = c.external_id
  where o.tenant_id = $1 and o.status = 'PLACED' and o.id not in (${except})`;

/** Copies the lines of the orders copied from `$1` into `$2`, with the products copied there. */
export const COPY_ORDER_LINES = `insert into kokyaku.order_lines (tenant_id, order_id, position, product_id, quantity, unit_price_minor)
  select $2, no.id, l.position, np.id, l.quantity, l.unit_price_minor
  from kokyaku.order_lines l
  join kokyaku.orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
  join kokyaku.orders no on no.tenant_id = $2 and no.external_id = o.external_id
  join kokyaku.products pr on pr.tenant_id = l.tenant_id and pr.id = l.product_id
  join kokyaku.products np on np.tenant_id = $2 and np.external_id = pr.external_id
  where o.tenant_id = $1`;
