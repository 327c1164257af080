/**
 * What the catalog publishes for other modules' SQL: they name products through these fragments,
 * never the products table itself (docs/architecture.md).
 */

/**
 * The ids of the shop's (`$1`) products meeting `condition` over `p`, as a subquery:
 * `l.product_id in (${productIds(`p.external_id = $2`)})`.
 */
export const productIds = (condition: string): string => `select p.id from kokyaku.products p where p.tenant_id = $1 and ${condition}`;

/** Copies every product of the shop `$1` into the tenant `$2` (a scratch tenant: the recommendations' evaluation). */
export const COPY_PRODUCTS = `insert into kokyaku.products (tenant_id, external_id, name, price_minor, currency, categories, tags, in_stock, placeholder)
  select $2, external_id, name, price_minor, currency, categories, tags, in_stock, placeholder from kokyaku.products where tenant_id = $1`;
