import { ensureRows } from '../ingestion/references.js';
import type { KokyakuContext } from '../shared/context.js';

/** The ids of the shop's products by shop id, creating placeholders (named by their shop id) for those not sent yet. */
export function ensureProducts(ctx: KokyakuContext, externalIds: readonly string[]): Promise<Map<string, string>> {
  return ensureRows(ctx, externalIds, { table: 'kokyaku.products', insertColumns: 'name, currency', insertValues: 'w.external_id, $3', extraParams: [ctx.shop.currency] });
}
