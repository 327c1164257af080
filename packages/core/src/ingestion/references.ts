import type { KokyakuContext } from '../shared/context.js';
import { sql } from '../shared/sql.js';

/**
 * Orders and events may name customers and products the CRM has not been sent yet (a checkout
 * forwarded before the nightly customer sync). Rather than reject them, a placeholder row keyed
 * by the shop id is created; the later upsert of the real record fills it in. Returns the
 * internal id of every given shop id. The owning module says which table and columns
 * (`ensureCustomers` in customers/, `ensureProducts` in catalog/).
 */
export async function ensureRows(
  ctx: KokyakuContext,
  externalIds: readonly string[],
  target: {
    /** The owning module's table (`kokyaku.customers`), keyed by (tenant_id, external_id), with a `placeholder` column. */
    table: string;
    insertColumns: string;
    insertValues: string;
    /** More CTEs after `inserted` (the owner's rows that go with a new one). */
    afterInsert?: string;
    extraParams?: readonly unknown[];
    /** Receives the ids of the placeholders this call created. */
    created?: string[];
    /** Shop ids `e` that name a row another way (a merged-away customer): not created... */
    elsewhere?: (e: string) => string;
    /** ... and their ids: `select id::text, external_id, false ...` for the ids in `$2`. */
    elsewhereIds?: string;
  },
): Promise<Map<string, string>> {
  const { table, insertColumns, insertValues, afterInsert = '', extraParams = [], created } = target;
  const ids = new Map<string, string>();
  const given = [...new Set(externalIds)];
  // Mostly they exist: one index lookup each, and only the rest go through the statement below.
  for (const row of await existing(ctx, table, given)) ids.set(row.external_id, row.id);
  const unique = given.filter((id) => !ids.has(id));
  if (unique.length === 0) return ids;
  const statement = `
    with wanted as (
      select distinct e as external_id from jsonb_array_elements_text($2::jsonb) as e
      ${target.elsewhere ? `where not ${target.elsewhere('e')}` : ''}
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
    ${target.elsewhereIds ? `union all ${target.elsewhereIds}` : ''}`;
  const rows = await sql<{ id: string; external_id: string; created: boolean }>(ctx.em, statement, [ctx.tenantId, JSON.stringify(unique), ...extraParams]);
  for (const row of rows) {
    ids.set(row.external_id, row.id);
    if (row.created) created?.push(row.id);
  }
  // A concurrent batch may have inserted some of them after this statement's snapshot was taken.
  const missing = unique.filter((id) => !ids.has(id));
  if (missing.length > 0) for (const row of await existing(ctx, table, missing)) ids.set(row.external_id, row.id);
  return ids;
}

function existing(ctx: KokyakuContext, table: string, externalIds: readonly string[]) {
  if (externalIds.length === 0) return Promise.resolve([]);
  return sql<{ id: string; external_id: string }>(
    ctx.em,
    `select id::text as id, external_id from ${table} where tenant_id = $1 and external_id = any(kokyaku.json_texts($2::jsonb))`,
    [ctx.tenantId, JSON.stringify(externalIds)],
  );
}
