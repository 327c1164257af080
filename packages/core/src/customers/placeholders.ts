import { ensureRows } from '../ingestion/references.js';
import { newFactsRows } from '../metrics/published.js';
import type { KokyakuContext } from '../shared/context.js';

/**
 * The ids of the shop's customers by shop id, creating placeholders for those not sent yet (with
 * their facts row, the metrics module's). A shop id merged into another customer names the
 * survivor. `created` (when given) receives the ids of the placeholders this call created.
 */
export function ensureCustomers(ctx: KokyakuContext, externalIds: readonly string[], created?: string[]): Promise<Map<string, string>> {
  return ensureRows(ctx, externalIds, {
    table: 'kokyaku.customers',
    insertColumns: 'email_consent',
    insertValues: 'false',
    afterInsert: `, facts as (${newFactsRows('inserted')})`,
    created,
    elsewhere: (e) => `exists (select 1 from kokyaku.customer_aliases a where a.tenant_id = $1 and a.external_id = ${e})`,
    elsewhereIds: `select a.customer_id::text, a.external_id, false from kokyaku.customer_aliases a where a.tenant_id = $1 and a.external_id = any(kokyaku.json_texts($2::jsonb))`,
  });
}
