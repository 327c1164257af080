/**
 * Builds the statement behind the batch upserts of records keyed by the shop's id. Column names
 * and expressions come from constant field specs in code; every value travels in one JSON bind
 * parameter ($2), so the statement is fully parameterised and the same for any batch size.
 *
 * Semantics: a field absent from an item keeps the stored value, an explicit null clears it;
 * a row whose values do not change is not written at all (its `updated_at` stays), so recording
 * a known record again changes nothing.
 */
export interface UpsertField {
  /** Key in the item JSON (camelCase, as in the API). */
  key: string;
  column: string;
  /** SQL reading the new value from `i.doc` (the item) and, if it merges, `c` (the stored row). */
  value: string;
  /** Value for a new row when the item omits the field (for NOT NULL columns). */
  insertDefault?: string;
}

export interface UpsertSpec {
  table: string;
  fields: UpsertField[];
}

export function buildUpsertSql(spec: UpsertSpec): string {
  const columns = spec.fields.map((f) => f.column);
  const selects = spec.fields.map((f) => {
    const chosen = `case when i.doc->'${f.key}' is not null then ${f.value} else c.${f.column} end`;
    return f.insertDefault ? `coalesce(${chosen}, ${f.insertDefault})` : chosen;
  });
  return `
    with input as (
      select e.doc, e.doc->>'externalId' as external_id
      from jsonb_array_elements($2::jsonb) as e(doc)
    ),
    upserted as (
      insert into ${spec.table} as t (tenant_id, external_id, ${columns.join(', ')}, placeholder)
      select $1, i.external_id, ${selects.join(',\n             ')}, false
      from input i
      left join ${spec.table} c on c.tenant_id = $1 and c.external_id = i.external_id
      on conflict (tenant_id, external_id) do update
        set ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, placeholder = false, updated_at = now()
        where (${columns.map((c) => `t.${c}`).join(', ')}, t.placeholder)
          is distinct from (${columns.map((c) => `excluded.${c}`).join(', ')}, false)
      returning t.id, t.external_id, (t.xmax::text = '0') as inserted
    )
    select id::text as id, external_id, inserted from upserted`;
}

/** SQL for a text[] column from a JSON array field of the item. */
export const textArrayFrom = (key: string) => `array(select jsonb_array_elements_text(i.doc->'${key}'))`;
