import type { KokyakuContext } from '../shared/context.js';
import { sql } from '../shared/sql.js';

/**
 * Orders and events may name customers and products the CRM has not been sent yet (a checkout
 * forwarded before the nightly customer sync). Rather than reject them, a placeholder row keyed
 * by the shop id is created; the later upsert of the real record fills it in. Returns the
 * internal id of every given shop id.
 */
async function ensureRows(
  ctx: KokyakuContext,
  table: 'kokyaku.customers' | 'kokyaku.products',
  insertColumns: string,
  insertValues: string,
  externalIds: readonly string[],
  afterInsert = '',
  extraParams: readonly unknown[] = [],
  created?: string[],
  aliases = false,
): Promise<Map<string, string>> {
  const unique = [...new Set(externalIds)];
  if (unique.length === 0) return new Map();
  // Customers: a shop id that was merged into another customer names the survivor.
  const statement = `
    with wanted as (
      select distinct e as external_id from jsonb_array_elements_text($2::jsonb) as e
      ${aliases ? `where not exists (select 1 from kokyaku.customer_aliases a where a.tenant_id = $1 and a.external_id = e)` : ''}
    ),
    inserted as (
      insert into ${table} (tenant_id, external_id, ${insertColumns}, placeholder)
      select $1, w.external_id, ${insertValues}, true from wanted w
      where not exists (select 1 from ${table} x where x.tenant_id = $1 and x.external_id = w.external_id)
      -- In one order for every batch: two batches placing the same new ids wait for each other
      -- instead of each holding one the other needs (a deadlock).
      order by w.external_id
      on conflict (tenant_id, external_id) do nothing
      returning id, external_id
    )${afterInsert}
    select id::text as id, external_id, true as created from inserted
    union all
    select x.id::text, x.external_id, false from ${table} x join wanted w on w.external_id = x.external_id where x.tenant_id = $1
    ${aliases ? `union all select a.customer_id::text, a.external_id, false from kokyaku.customer_aliases a where a.tenant_id = $1 and a.external_id = any(kokyaku.json_texts($2::jsonb))` : ''}`;
  const ids = new Map<string, string>();
  const rows = await sql<{ id: string; external_id: string; created: boolean }>(ctx.em, statement, [ctx.tenantId, JSON.stringify(unique), ...extraParams]);
  for (const row of rows) {
    ids.set(row.external_id, row.id);
    if (row.created) created?.push(row.id);
  }
  // A concurrent batch may have inserted some of them after this statement's snapshot was taken.
  const missing = unique.filter((id) => !ids.has(id));
  if (missing.length > 0) {
    const rows = await sql<{ id: string; external_id: string }>(
      ctx.em,
      `select id::text as id, external_id from ${table}
       where tenant_id = $1 and external_id = any(kokyaku.json_texts($2::jsonb))`,
      [ctx.tenantId, JSON.stringify(missing)],
    );
    for (const row of rows) ids.set(row.external_id, row.id);
  }
  return ids;
}

/** `created` (when given) receives the ids of the placeholders this call created. */
export function ensureCustomers(ctx: KokyakuContext, externalIds: readonly string[], created?: string[]): Promise<Map<string, string>> {
  return ensureRows(
    ctx,
    'kokyaku.customers',
    'email_consent',
    'false',
    externalIds,
    `,
    facts as (
      insert into kokyaku.customer_facts (customer_id, tenant_id, added_at)
      select id, $1, now() from inserted
    )`,
    [],
    created,
    true,
  );
}

export function ensureProducts(ctx: KokyakuContext, externalIds: readonly string[]): Promise<Map<string, string>> {
  return ensureRows(ctx, 'kokyaku.products', 'name, currency', 'w.external_id, $3', externalIds, '', [ctx.shop.currency]);
}
